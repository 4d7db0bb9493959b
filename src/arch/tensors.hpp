// arch/tensors.hpp — the tensors of a model of an architecture, named as llama.cpp names GGUF
// tensors, with their shapes and their Hugging Face names: one list for the engine's weight
// binding checks, the model generator, the converter and the traffic accounting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arch/architecture.hpp"

namespace inference::arch {

/// What a tensor is for (decides the initial values of generated weights and the llama-quantize
/// type rules).
enum class TensorRole {
  embedding,   ///< token_embd
  output,      ///< output.weight
  weight,      ///< other 2-D matmul weights
  attn_v,      ///< blk.N.attn_v.weight (the Q4_K_M / Q5_K_M mixes give some layers more bits)
  ffn_down,    ///< blk.N.ffn_down.weight (likewise)
  norm,        ///< 1-D norm weights
  bias,        ///< 1-D biases
  rope_freqs,  ///< rope_freqs.weight: Llama 3 frequency factors
};

/// The hyper-parameters that decide the tensor list.
struct TensorShapeParams {
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  int64_t n_vocab = 0;
  bool tied = false;        ///< no output.weight: the output matrix is token_embd
  bool rope_freqs = false;  ///< a rope_freqs.weight of head_dim / 2 factors (Llama 3 scaling)
};

struct TensorSpec {
  std::string name;         ///< GGUF name: "blk.3.attn_q.weight"
  std::vector<int64_t> ne;  ///< ggml order: ne[0] is the row length
  TensorRole role;
  int64_t layer;  ///< -1 for tensors outside the blocks
  int64_t rows() const { return ne.size() > 1 ? ne[1] : 1; }
};

/// Every tensor of a model of `arch` with `shape`, in the order llama.cpp's converter writes
/// them.
std::vector<TensorSpec> tensor_list(const Architecture& arch, const TensorShapeParams& shape);

/// "blk.N." for layer N.
std::string layer_prefix(int64_t layer);

/// The Hugging Face name of the GGUF per-layer tensor `suffix` ("attn_q.weight" ->
/// "self_attn.q_proj.weight"), or "" if the architecture has none. Without the
/// "model.layers.N." prefix.
std::string hf_layer_tensor_name(const Architecture& arch, std::string_view suffix);

/// Every per-layer GGUF suffix any architecture uses (a converter asks each one of a checkpoint).
std::span<const std::string_view> all_layer_tensor_suffixes() noexcept;

}  // namespace inference::arch
