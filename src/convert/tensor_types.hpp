// convert/tensor_types.hpp — which ggml type each tensor of a model gets for a requested file
// type: llama.cpp's published llama-quantize rules (without an importance matrix), the one
// chooser behind `infer quantize` and `infer gen-model`, so a Q4_K_M written by either has the
// tensor types (and the byte count) of llama.cpp's:
// - only 2-D weights are quantised; norms, biases, rope factors, gating tensors keep their type;
// - the output matrix (token_embd when the model ties it) gets Q6_K in every quantised type but
//   Q8_0 (Q8_0 when its rows are not a multiple of the base type's block);
// - the _M mixes promote attn_v and ffn_down to Q6_K on the first and last eighth of the layers
//   and every third layer in between (use_more_bits), fused attn_qkv to Q5_K/Q6_K;
// - rows not a multiple of 256 fall back from Q4_K/Q5_K/Q6_K to Q5_0/Q5_1/Q8_0 (F16 if even
//   that does not fit).
// `pure` turns the rules off (every weight gets the base type; fallbacks still apply).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "convert/file_type.hpp"
#include "formats/ggml_types.hpp"

namespace inference::convert {

/// One tensor of the model as the rules see it.
struct TensorTypeInput {
  std::string name;         ///< GGUF name
  std::vector<int64_t> ne;  ///< ggml order: ne[0] is the row length
  formats::GgmlType type;   ///< its type now (kept by tensors the rules do not quantise)
};

/// llama.cpp's use_more_bits(): the first and last eighth of the layers and every third one
/// in between.
bool use_more_bits(int64_t i_layer, int64_t n_layers);

/// llama.cpp's selection of the tensors it quantises at all.
bool should_quantize(const std::string& name, const std::vector<int64_t>& ne);

/// The order llama.cpp's loader gives the tensors (by layer number, tensors outside the layers
/// first, then by name): llama-quantize writes and counts them in it. Indices into `tensors`.
std::vector<size_t> llama_order(std::span<const TensorTypeInput> tensors);

/// The type of every tensor (in the order of `tensors`) of the model written as `request`.
/// Throws Error(unsupported) naming the tensor when its rows fit no fallback type.
std::vector<formats::GgmlType> choose_tensor_types(const FileTypeRequest& request, bool pure,
                                                   std::span<const TensorTypeInput> tensors);

}  // namespace inference::convert
