// train/lora_checkpoint.hpp — saving a trained adapter in the PEFT format (loadable by our
// engine, by PEFT and by mlx-lm's converters) and the optimizer state a run resumes from.
//
// An adapter directory holds adapter_config.json and adapter_model.safetensors (A [r, in],
// B [out, r], F32, Hugging Face row order: q/k rows of a GGUF llama base are un-permuted). A
// checkpoint directory adds optimizer.safetensors (A, B and both AdamW moments in the trainer's
// own row order, so a resumed run continues bit for bit) and trainer_state.json. Directories
// are written under a temporary name and renamed into place, so a crash never leaves a
// half-written checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "train/lora_trainer.hpp"

namespace inference::train {

struct TrainerState {
  int64_t step = 0;  ///< optimizer steps done
  int64_t total_steps = 0;
  uint64_t config_hash = 0;  ///< of everything that must not change across a resume
  double last_loss = 0.0;
};

/// Writes the PEFT files of `lora` into `dir` (created if needed; files replaced atomically).
void save_peft_adapter(const TrainableLora<float>& lora, const engine::HParams& hp,
                       bool qk_permuted, const std::string& base_model,
                       const std::filesystem::path& dir);

/// Writes `dir` (PEFT files + optimizer state + trainer_state.json) atomically.
void save_checkpoint(const TrainableLora<float>& lora, const engine::HParams& hp, bool qk_permuted,
                     const std::string& base_model, const TrainerState& state,
                     const std::filesystem::path& dir);

/// The checkpoint under `out_dir` with the most steps (checkpoint-NNNNNNNN), if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& out_dir);

/// Restores A, B and the AdamW moments into `lora` (already initialised with the same shapes)
/// and returns the saved state. Throws Error(invalid_model) naming what does not match.
TrainerState load_checkpoint(const std::filesystem::path& dir, TrainableLora<float>& lora);

}  // namespace inference::train
