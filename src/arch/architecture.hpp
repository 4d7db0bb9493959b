// arch/architecture.hpp — the one table of the decoder architectures this project knows: what
// formats, engine, converter and CLI need to know about each, as data (standard library only).
//
// Adding an architecture = one entry in architecture.cpp (+ its chat template in src/chat if it
// brings a new one); docs/architecture.md lists the exact places.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace inference::arch {

enum class Activation { silu, gelu_tanh };

struct Architecture {
  std::string_view name;  ///< GGUF general.architecture
  /// Hugging Face config.json model_type values that load as this architecture ("llama",
  /// "mistral"); the text model's type for multimodal checkpoints ("gemma3_text").
  std::span<const std::string_view> hf_model_types;
  /// The built-in chat template (src/chat) used when a model carries none.
  std::string_view chat_template;
  /// llama.cpp's tokenizer.ggml.pre of the real models (synthetic vocabularies use it).
  std::string_view pre_tokenizer = "gpt-2";

  bool rope_neox = false;   ///< RoPE pairs (i, i + d/2) (GGUF); llama pairs (2i, 2i+1)
  bool qkv_bias = false;    ///< q/k/v projections carry biases (required)
  bool qk_norm = false;     ///< per-head RMS norm of q and k before RoPE
  bool post_norms = false;  ///< RMS norms after attention and after the FFN (gemma3)
  Activation activation = Activation::silu;
  bool embedding_scale = false;  ///< embeddings x sqrt(n_embd) (gemma3)
  /// Scale q by 1/sqrt(head_dim) before attention instead of the scores (gemma3 in the
  /// reference; the same maths, rounded as the reference rounds it).
  bool scale_query = false;
  /// Default sliding-window pattern: every Nth layer is global, the others local (0 = none).
  int swa_pattern = 0;
  /// Hugging Face checkpoints store the norm weights as w (applied as 1 + w); GGUF stores 1 + w.
  bool hf_norm_plus_one = false;
  /// The query scale when the file gives none is 1/sqrt(head_dim), except for a model of
  /// exactly this many layers, which uses 1/sqrt(n_embd / n_head) (Gemma 3 27B; GGUF has no
  /// key for it, so the reference recognises the model by its depth). 0 = no such case.
  int32_t query_scale_by_embd_layers = 0;
};

/// The architecture of a GGUF general.architecture name, or null if this build does not know it.
const Architecture* find(std::string_view gguf_name) noexcept;

/// The architecture a Hugging Face model_type loads as, or null.
const Architecture* find_by_hf_model_type(std::string_view model_type) noexcept;

/// Every architecture, in table order.
std::span<const Architecture* const> all() noexcept;

/// "llama, qwen2, qwen3, gemma3" (for error messages).
std::string supported_names();

/// Every HF model_type this build loads, comma-separated (for error messages).
std::string supported_hf_model_types();

/// The sliding-window rule of a periodic pattern: with a period of `pattern` layers, every
/// pattern-th layer (1-based) is global and the others are local. 0 = no local layers.
constexpr bool is_sliding_layer(int64_t layer, int64_t pattern) noexcept {
  return pattern > 0 && layer >= 0 && (layer + 1) % pattern != 0;
}

/// The attention (query) scale of a model: 1/sqrt(head_dim), or the architecture's special case.
float default_query_scale(const Architecture& arch, int64_t n_layer, int64_t n_embd, int64_t n_head,
                          int64_t head_dim) noexcept;

}  // namespace inference::arch
