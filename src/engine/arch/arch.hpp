// engine/arch/arch.hpp — what distinguishes one decoder architecture from another, as data.
//
// The engine has one decoder (engine/forward.cpp). Supporting an architecture means adding one
// ArchDescription here (and, for Hugging Face directories, its config.json model_type), not new
// forward-pass code.
#pragma once

#include <string_view>

namespace inference::engine {

enum class Activation { silu, gelu_tanh };

struct ArchDescription {
  std::string_view name;    ///< GGUF general.architecture
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
  /// Hugging Face checkpoints store Gemma norm weights as w (applied as 1 + w); GGUF stores 1 + w.
  bool hf_norm_plus_one = false;
};

/// The description of a GGUF architecture name, or null if this build does not know it.
const ArchDescription* find_arch(std::string_view name) noexcept;

/// The architecture names this build supports, comma-separated (for error messages).
std::string_view supported_arch_names() noexcept;

}  // namespace inference::engine
