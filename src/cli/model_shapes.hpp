// cli/model_shapes.hpp — the named model shapes `infer gen-model` can write, and the tensor list
// of a shape, named as llama.cpp names GGUF tensors.
//
// Shapes are published hyper-parameters of real models (so benchmarks of random-weight files
// read exactly the bytes the real model would), plus tiny ones for tests.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace inference::cli {

struct ModelShape {
  std::string_view name;          ///< what --shape takes: "llama-3.2-1b"
  std::string_view architecture;  ///< general.architecture: "llama", "qwen2", "gemma3"
  std::string_view display_name;  ///< general.name
  int64_t n_embd;
  int64_t n_layer;
  int64_t n_head;
  int64_t n_head_kv;
  int64_t head_dim;
  int64_t n_ff;
  int64_t n_vocab;
  int64_t n_ctx_train;
  float rope_theta;
  float rope_theta_swa;    ///< gemma3 local layers; 0 = no sliding window
  int64_t sliding_window;  ///< gemma3; 0 = none
  float rms_eps;
  bool qkv_bias;     ///< qwen2
  bool qk_norm;      ///< gemma3: per-head RMS norm of q and k
  bool post_norms;   ///< gemma3: post-attention and post-FFN norms
  bool tied;         ///< no output.weight: the output matrix is token_embd
  bool llama3_rope;  ///< rope_freqs.weight with Llama 3 frequency scaling
};

// Llama 3 RoPE scaling of Llama-3.2-1B's config.json (factor 32, low 1, high 4, original 8192).
inline constexpr float kLlama3RopeFactor = 32.0f;
inline constexpr float kLlama3LowFreqFactor = 1.0f;
inline constexpr float kLlama3HighFreqFactor = 4.0f;
inline constexpr int64_t kLlama3OriginalContext = 8192;

// clang-format off
inline constexpr std::array<ModelShape, 6> kModelShapes = {{
    // name, arch, display, embd, layers, heads, kv, head_dim, ffn, vocab, ctx,
    // theta, theta_swa, window, eps, bias, qk_norm, post_norms, tied, llama3_rope
    {"llama-3.2-1b", "llama", "Llama-3.2-1B (random weights)",
     2048, 16, 32, 8, 64, 8192, 128256, 131072, 500000.0f, 0.0f, 0, 1e-5f,
     false, false, false, true, true},
    {"gemma-3-1b", "gemma3", "Gemma-3-1B (random weights)",
     1152, 26, 4, 1, 256, 6912, 262144, 32768, 1000000.0f, 10000.0f, 512, 1e-6f,
     false, true, true, true, false},
    {"qwen2.5-0.5b", "qwen2", "Qwen2.5-0.5B (random weights)",
     896, 24, 14, 2, 64, 4864, 151936, 32768, 1000000.0f, 0.0f, 0, 1e-6f,
     true, false, false, true, false},
    // Tiny shapes for tests: one per architecture, rows a multiple of 256 so K-quants apply.
    {"tiny-llama", "llama", "tiny llama (random weights)",
     256, 2, 4, 2, 64, 512, 1024, 2048, 10000.0f, 0.0f, 0, 1e-5f,
     false, false, false, false, false},
    {"tiny-qwen2", "qwen2", "tiny qwen2 (random weights)",
     256, 2, 4, 2, 64, 512, 1024, 2048, 1000000.0f, 0.0f, 0, 1e-6f,
     true, false, false, true, false},
    {"tiny-gemma3", "gemma3", "tiny gemma3 (random weights)",
     256, 6, 4, 1, 64, 512, 1024, 2048, 1000000.0f, 10000.0f, 8, 1e-6f,
     false, true, true, true, false},
}};
// clang-format on

inline const ModelShape* find_model_shape(std::string_view name) {
  auto it = std::find_if(kModelShapes.begin(), kModelShapes.end(),
                         [&](const ModelShape& s) { return s.name == name; });
  return it == kModelShapes.end() ? nullptr : &*it;
}

inline std::string model_shape_names() {
  std::string names;
  for (const auto& s : kModelShapes) names += (names.empty() ? "" : ", ") + std::string(s.name);
  return names;
}

/// What a tensor is for: decides its initial values and (for mixes) its quantisation type.
enum class TensorRole {
  embedding,   ///< token_embd
  output,      ///< output.weight
  weight,      ///< other 2-D matmul weights
  attn_v,      ///< blk.N.attn_v.weight (the Q4_K_M / Q5_K_M mixes give some layers more bits)
  ffn_down,    ///< blk.N.ffn_down.weight (likewise)
  norm,        ///< 1-D norm weights: ones
  bias,        ///< 1-D biases
  rope_freqs,  ///< rope_freqs.weight: Llama 3 frequency factors
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;  ///< ggml order: ne[0] is the row length
  TensorRole role;
  int64_t layer;  ///< -1 for tensors outside the blocks
  int64_t rows() const { return ne.size() > 1 ? ne[1] : 1; }
};

/// The spec of a tensor of an existing file, from its llama.cpp name and shape: what the type
/// rules need to re-derive the type a file type gives it.
inline TensorSpec tensor_spec_from_name(const std::string& name, std::vector<int64_t> ne) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  int64_t layer = -1;
  if (name.rfind("blk.", 0) == 0) layer = std::strtoll(name.c_str() + 4, nullptr, 10);
  TensorRole role = TensorRole::weight;
  if (name == "token_embd.weight") {
    role = TensorRole::embedding;
  } else if (name == "output.weight") {
    role = TensorRole::output;
  } else if (name == "rope_freqs.weight") {
    role = TensorRole::rope_freqs;
  } else if (ends_with(".bias")) {
    role = TensorRole::bias;
  } else if (ne.size() < 2) {
    role = TensorRole::norm;
  } else if (ends_with("attn_v.weight")) {
    role = TensorRole::attn_v;
  } else if (ends_with("ffn_down.weight")) {
    role = TensorRole::ffn_down;
  }
  return {name, std::move(ne), role, layer};
}

/// Every tensor of `shape`, in the order llama.cpp's converter writes them.
inline std::vector<TensorSpec> model_tensors(const ModelShape& shape) {
  const int64_t q_dim = shape.n_head * shape.head_dim;
  const int64_t kv_dim = shape.n_head_kv * shape.head_dim;
  std::vector<TensorSpec> t;
  t.push_back({"token_embd.weight", {shape.n_embd, shape.n_vocab}, TensorRole::embedding, -1});
  if (shape.llama3_rope) {
    t.push_back({"rope_freqs.weight", {shape.head_dim / 2}, TensorRole::rope_freqs, -1});
  }
  for (int64_t il = 0; il < shape.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    t.push_back({p + "attn_norm.weight", {shape.n_embd}, TensorRole::norm, il});
    t.push_back({p + "attn_q.weight", {shape.n_embd, q_dim}, TensorRole::weight, il});
    t.push_back({p + "attn_k.weight", {shape.n_embd, kv_dim}, TensorRole::weight, il});
    t.push_back({p + "attn_v.weight", {shape.n_embd, kv_dim}, TensorRole::attn_v, il});
    if (shape.qkv_bias) {
      t.push_back({p + "attn_q.bias", {q_dim}, TensorRole::bias, il});
      t.push_back({p + "attn_k.bias", {kv_dim}, TensorRole::bias, il});
      t.push_back({p + "attn_v.bias", {kv_dim}, TensorRole::bias, il});
    }
    if (shape.qk_norm) {
      t.push_back({p + "attn_q_norm.weight", {shape.head_dim}, TensorRole::norm, il});
      t.push_back({p + "attn_k_norm.weight", {shape.head_dim}, TensorRole::norm, il});
    }
    t.push_back({p + "attn_output.weight", {q_dim, shape.n_embd}, TensorRole::weight, il});
    if (shape.post_norms) {
      t.push_back({p + "post_attention_norm.weight", {shape.n_embd}, TensorRole::norm, il});
    }
    t.push_back({p + "ffn_norm.weight", {shape.n_embd}, TensorRole::norm, il});
    t.push_back({p + "ffn_gate.weight", {shape.n_embd, shape.n_ff}, TensorRole::weight, il});
    t.push_back({p + "ffn_up.weight", {shape.n_embd, shape.n_ff}, TensorRole::weight, il});
    t.push_back({p + "ffn_down.weight", {shape.n_ff, shape.n_embd}, TensorRole::ffn_down, il});
    if (shape.post_norms) {
      t.push_back({p + "post_ffw_norm.weight", {shape.n_embd}, TensorRole::norm, il});
    }
  }
  t.push_back({"output_norm.weight", {shape.n_embd}, TensorRole::norm, -1});
  if (!shape.tied) {
    t.push_back({"output.weight", {shape.n_embd, shape.n_vocab}, TensorRole::output, -1});
  }
  return t;
}

}  // namespace inference::cli
