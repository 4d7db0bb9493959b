// inference/trainable_model.hpp — the optional capability of fine-tuning a LoRA adapter on the
// loaded model: apply LoRA, encode/decode, train, save the adapter.
//
// Find it with dynamic_cast like the others in capabilities.hpp:
//   if (auto* t = dynamic_cast<inference::TrainableModel*>(model.get())) { … }
// The base weights stay frozen (in their file format, quantised included); only the adapter's
// A and B matrices (float32) are trained. The saved adapter is a PEFT directory that
// LoadConfig::adapters (and PEFT, mlx-lm) load back. `infer train` is the whole-run tool over the
// same machinery (JSONL data, schedules, checkpoints, resume).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inference {

/// The adapter apply_lora() attaches.
struct LoraConfig {
  int32_t rank = 8;
  float alpha = 16.0f;  ///< scale = alpha / rank
  /// Projections to adapt: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj.
  std::vector<std::string> targets = {"q_proj", "v_proj"};
  uint64_t seed = 0;  ///< A's random initialisation (B starts at zero).
};

/// One training sequence: token ids and which of them are trained (mask[i] = 1: the loss covers
/// predicting tokens[i] from tokens[0..i)). mask.size() == tokens.size(); mask[0] is ignored.
struct TrainExample {
  std::vector<int32_t> tokens;
  std::vector<uint8_t> mask;
};

/// AdamW settings of one train_step() (bias correction by step number; decoupled decay).
struct TrainStepConfig {
  double learning_rate = 1e-4;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weight_decay = 0.0;
  double clip_norm = 1.0;  ///< global gradient-norm clipping; <= 0: none
};

/// What one train_step() did.
struct TrainStepResult {
  int64_t step = 0;        ///< optimizer steps taken so far (this one included)
  double loss = 0.0;       ///< mean loss per trained token of the batch, before the update
  double grad_norm = 0.0;  ///< before clipping
  int64_t trained_tokens = 0;
};

class TrainableModel {
 public:
  virtual ~TrainableModel() = default;
  /// Attaches a fresh trainable adapter (A Kaiming-uniform, B zero: the model's outputs are
  /// unchanged until it is trained), replacing any earlier one and resetting the optimizer.
  /// Throws Error(invalid_argument) for an unknown target or a rank < 1.
  virtual void apply_lora(const LoraConfig& config) = 0;
  /// Token ids of `text` with the model's tokenizer (add_special: BOS per the model's rules).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                                      bool parse_special = false) const = 0;
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  /// One optimizer step over `batch`: exact forward and backward passes through the frozen base
  /// with the adapter, the masked cross-entropy averaged over the batch's trained tokens, then
  /// AdamW. Throws Error(invalid_argument) before apply_lora(), for an empty batch, a batch
  /// without trained tokens, or a token outside the vocabulary.
  virtual TrainStepResult train_step(std::span<const TrainExample> batch,
                                     const TrainStepConfig& config = {}) = 0;
  /// Mean loss per trained token of `examples` with the current adapter (no update).
  virtual double evaluate_loss(std::span<const TrainExample> examples) = 0;
  /// Writes the adapter as a PEFT directory (adapter_config.json + adapter_model.safetensors),
  /// loadable with LoadConfig::adapters. Throws Error(invalid_argument) before apply_lora().
  virtual void save_adapter(const std::filesystem::path& dir) const = 0;
};

}  // namespace inference
