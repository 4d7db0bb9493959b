// arch/architecture.cpp — the architecture table. Semantics follow the reference's model graphs
// (see testdata README "Model semantics the goldens embody").
#include "arch/architecture.hpp"

#include <array>
#include <cmath>

namespace inference::arch {
namespace {

// Llama 3.x and Mistral (GGUF "llama"): plain pre-norm decoder, SwiGLU, RoPE on adjacent pairs
// (the GGUF converter permutes q/k rows for that), optional rope_freqs.
constexpr std::array<std::string_view, 2> kLlamaHf{"llama", "mistral"};
constexpr Architecture kLlama{.name = "llama",
                              .hf_model_types = kLlamaHf,
                              .chat_template = "llama3",
                              .pre_tokenizer = "llama-bpe"};

// Qwen 2.5: as llama plus q/k/v biases and NeoX RoPE.
constexpr std::array<std::string_view, 1> kQwen2Hf{"qwen2"};
constexpr Architecture kQwen2{.name = "qwen2",
                              .hf_model_types = kQwen2Hf,
                              .chat_template = "chatml",
                              .pre_tokenizer = "qwen2",
                              .rope_neox = true,
                              .qkv_bias = true};

// Qwen 3: per-head q/k RMS norms, NeoX RoPE, explicit head_dim (attention.key_length).
constexpr std::array<std::string_view, 1> kQwen3Hf{"qwen3"};
constexpr Architecture kQwen3{.name = "qwen3",
                              .hf_model_types = kQwen3Hf,
                              .chat_template = "chatml",
                              .rope_neox = true,
                              .qk_norm = true};

// Gemma 3: q/k norms, post-attention/post-FFN norms, GELU-tanh, sqrt(n_embd) embedding scale,
// five local (sliding-window) layers to one global layer; the multimodal checkpoints' text
// model is "gemma3_text".
constexpr std::array<std::string_view, 2> kGemma3Hf{"gemma3_text", "gemma3"};
constexpr Architecture kGemma3{.name = "gemma3",
                               .hf_model_types = kGemma3Hf,
                               .chat_template = "gemma3",
                               .rope_neox = true,
                               .qk_norm = true,
                               .post_norms = true,
                               .activation = Activation::gelu_tanh,
                               .embedding_scale = true,
                               .scale_query = true,
                               .swa_pattern = 6,
                               .hf_norm_plus_one = true,
                               .query_scale_by_embd_layers = 62};

constexpr std::array<const Architecture*, 4> kArchs{&kLlama, &kQwen2, &kQwen3, &kGemma3};

}  // namespace

const Architecture* find(std::string_view gguf_name) noexcept {
  for (const Architecture* arch : kArchs) {
    if (arch->name == gguf_name) return arch;
  }
  return nullptr;
}

const Architecture* find_by_hf_model_type(std::string_view model_type) noexcept {
  for (const Architecture* arch : kArchs) {
    for (std::string_view type : arch->hf_model_types) {
      if (type == model_type) return arch;
    }
  }
  return nullptr;
}

std::span<const Architecture* const> all() noexcept {
  return kArchs;
}

std::string supported_names() {
  std::string names;
  for (const Architecture* arch : kArchs) {
    names += (names.empty() ? "" : ", ") + std::string(arch->name);
  }
  return names;
}

std::string supported_hf_model_types() {
  std::string names;
  for (const Architecture* arch : kArchs) {
    for (std::string_view type : arch->hf_model_types) {
      names += (names.empty() ? "" : ", ") + std::string(type);
    }
  }
  return names;
}

float default_query_scale(const Architecture& arch, int64_t n_layer, int64_t n_embd, int64_t n_head,
                          int64_t head_dim) noexcept {
  if (arch.query_scale_by_embd_layers > 0 && n_layer == arch.query_scale_by_embd_layers &&
      n_head > 0) {
    return 1.0f / std::sqrt(static_cast<float>(n_embd / n_head));
  }
  return 1.0f / std::sqrt(static_cast<float>(head_dim));
}

}  // namespace inference::arch
