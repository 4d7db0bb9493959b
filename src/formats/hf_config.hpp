// formats/hf_config.hpp — a Hugging Face config.json read into the hyper-parameters the engine
// needs (llama, mistral, qwen2, qwen3, gemma3 / gemma3_text; MLX quantised variants).
//
// Gemma 3 multimodal checkpoints keep the language model's parameters in a nested
// `text_config`; it is flattened here, with the transformers defaults of the model type filled in
// for keys the file leaves out (Gemma 3 configs rely on them: a 4B config names only hidden size,
// FFN size, layers, window and rope scaling). Anything present is validated: numbers must be
// numbers in a sane range, or Error(invalid_model) names the file and the key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inference::formats {

/// `rope_scaling` (HF naming). Llama 3.1: type "llama3" with factor, low/high_freq_factor and
/// original_max_position_embeddings. Gemma 3: type "linear" with factor (global layers only).
struct HfRopeScaling {
  std::string type;  ///< rope_type (or legacy "type"): "llama3", "linear", "yarn", "dynamic", …
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
};

/// One MLX quantisation setting: elements per group sharing a scale and bias, bits per element.
struct HfQuantGroup {
  int64_t group_size = 0;
  int64_t bits = 0;
};

/// `quantization` / `quantization_config`. MLX affine: group_size and bits, no method; mlx-lm
/// may add per-layer entries keyed by module path for layers quantised differently.
struct HfQuantization {
  std::string method;  ///< quant_method ("" for MLX, which does not name one)
  std::string mode;    ///< MLX "mode" ("" when absent, which means "affine")
  int64_t group_size = 0;
  int64_t bits = 0;
  /// MLX per-layer entries: module path ("model.layers.0.mlp.down_proj") -> its own group
  /// size and bits, or nullopt for a layer the file leaves unquantised (`false`).
  std::map<std::string, std::optional<HfQuantGroup>, std::less<>> layers;
  bool is_mlx_affine() const noexcept {
    return method.empty() && group_size > 0 && bits > 0 && (mode.empty() || mode == "affine");
  }
};

struct HfConfig {
  std::string model_type;                  ///< of the text model: "gemma3_text", "llama", …
  std::string outer_model_type;            ///< the file's top-level model_type ("gemma3")
  std::vector<std::string> architectures;  ///< e.g. "Gemma3ForConditionalGeneration"
  std::string torch_dtype;                 ///< "bfloat16", "float16", "float32" or ""

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  ///< = num_attention_heads when absent
  int64_t head_dim = 0;             ///< = hidden_size / num_attention_heads when absent
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::optional<HfRopeScaling> rope_scaling;
  std::string hidden_act;  ///< "silu", "gelu_pytorch_tanh", …
  bool tie_word_embeddings = false;
  bool attention_bias = false;  ///< q/k/v biases (Qwen 2 always has them)

  /// Sliding-window attention: the window (0 = none) and which layers use it.
  int64_t sliding_window = 0;
  int64_t sliding_window_pattern = 0;    ///< Gemma 3: every Nth layer is global (0 = unset)
  std::vector<std::string> layer_types;  ///< "sliding_attention" / "full_attention" per layer
  double rope_local_base_freq = 0.0;     ///< Gemma 3: theta of the sliding layers
  double query_pre_attn_scalar = 0.0;    ///< Gemma 3: attention scale is 1/sqrt(this)
  double final_logit_softcapping = 0.0;  ///< 0 = off
  double attn_logit_softcapping = 0.0;   ///< 0 = off

  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  ///< eos_token_id may be a number or a list

  std::optional<HfQuantization> quantization;

  /// Whether layer `layer` keeps only a sliding window of keys (layer_types if given, else
  /// the Gemma 3 pattern, else every layer when a window is set and enabled).
  bool is_sliding_layer(int64_t layer) const noexcept;
};

/// Parses config.json text. `source` names the file in errors.
HfConfig parse_hf_config(std::string_view json_text, std::string_view source = "config.json");
/// Reads `path` (a config.json, or a directory holding one). Throws Error naming the file.
HfConfig load_hf_config(const std::filesystem::path& path);

}  // namespace inference::formats
