// engine/hparams.hpp — the hyper-parameters of a decoder model, read from GGUF metadata or a
// Hugging Face config.json, validated so that every later size computation is overflow-free.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/architecture.hpp"

namespace inference::formats {
class GgufFile;
}

namespace inference::engine {

struct HParams {
  const arch::Architecture* arch = nullptr;  ///< the architecture table entry (src/arch)
  std::string arch_name;
  int32_t n_vocab = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;  ///< key/value length per head
  int32_t n_ff = 0;
  int32_t n_ctx_train = 0;
  float rms_eps = 1e-5f;

  int32_t rope_dims = 0;       ///< rotated dimensions per head
  float rope_base = 10000.0f;  ///< global layers
  float rope_freq_scale = 1.0f;
  bool rope_neox = false;
  float rope_base_swa = 10000.0f;  ///< local (sliding-window) layers

  int32_t sliding_window = 0;  ///< 0 = none
  int32_t swa_pattern = 0;     ///< every swa_pattern-th layer is global; 0 = all global
  /// Explicit per-layer choice (HF layer_types); overrides swa_pattern when not empty.
  std::vector<bool> local_layers;

  /// Attention scale; 0 = 1/sqrt(head_dim).
  float attention_scale = 0.0f;

  /// Whether layer `il` is a local (sliding-window) layer.
  bool is_local_layer(int32_t il) const noexcept {
    if (sliding_window <= 0) return false;
    if (!local_layers.empty()) return local_layers[static_cast<size_t>(il)];
    return arch::is_sliding_layer(il, swa_pattern);
  }
  float kq_scale() const noexcept {
    return attention_scale > 0 ? attention_scale : 1.0f / std::sqrt(static_cast<float>(head_dim));
  }
  int32_t q_dim() const noexcept { return n_head * head_dim; }
  int32_t kv_dim() const noexcept { return n_head_kv * head_dim; }

  /// Checks ranges and consistency; throws Error(invalid_model) naming `source` and the field.
  void validate(const std::string& source) const;
};

/// Reads "<arch>.*" keys. n_vocab is left 0 (the caller takes it from the embedding tensor).
/// Throws Error(unsupported) for an unknown architecture, Error(invalid_model) for missing or
/// out-of-range keys.
HParams hparams_from_gguf(const formats::GgufFile& file);

}  // namespace inference::engine
