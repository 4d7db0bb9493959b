// engine/arch/arch.cpp — the architecture table. Semantics follow the reference's model graphs
// (see testdata README "Model semantics the goldens embody").
#include "engine/arch/arch.hpp"

#include <array>

namespace inference::engine {
namespace {

// Llama 3.x and Mistral (GGUF "llama"): plain pre-norm decoder, SwiGLU, RoPE on adjacent pairs
// (the GGUF converter permutes q/k rows for that), optional rope_freqs.
constexpr ArchDescription kLlama{.name = "llama"};

// Qwen 2.5: as llama plus q/k/v biases and NeoX RoPE.
constexpr ArchDescription kQwen2{.name = "qwen2", .rope_neox = true, .qkv_bias = true};

// Qwen 3: per-head q/k RMS norms, NeoX RoPE, explicit head_dim (attention.key_length).
constexpr ArchDescription kQwen3{.name = "qwen3", .rope_neox = true, .qk_norm = true};

// Gemma 3: q/k norms, post-attention/post-FFN norms, GELU-tanh, sqrt(n_embd) embedding scale,
// five local (sliding-window) layers to one global layer.
constexpr ArchDescription kGemma3{.name = "gemma3",
                                  .rope_neox = true,
                                  .qk_norm = true,
                                  .post_norms = true,
                                  .activation = Activation::gelu_tanh,
                                  .embedding_scale = true,
                                  .scale_query = true,
                                  .swa_pattern = 6,
                                  .hf_norm_plus_one = true};

constexpr std::array<const ArchDescription*, 4> kArchs{&kLlama, &kQwen2, &kQwen3, &kGemma3};

}  // namespace

const ArchDescription* find_arch(std::string_view name) noexcept {
  for (const ArchDescription* arch : kArchs) {
    if (arch->name == name) return arch;
  }
  return nullptr;
}

std::string_view supported_arch_names() noexcept {
  return "llama, qwen2, qwen3, gemma3";
}

}  // namespace inference::engine
