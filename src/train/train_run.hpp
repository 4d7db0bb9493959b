// train/train_run.hpp — a LoRA training run: batches in a seeded order, AdamW, validation,
// atomic checkpoints every K steps, and resumption from the latest checkpoint that ends with
// the same adapter as an uninterrupted run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "inference/context.hpp"
#include "train/adamw.hpp"
#include "train/lora_trainer.hpp"
#include "train/train_data.hpp"

namespace inference::train {

struct TrainRunConfig {
  std::filesystem::path model;
  std::filesystem::path out_dir;
  LoraTrainConfig lora;
  OptimizerConfig optimizer;
  int32_t batch_size = 4;
  int64_t steps = 0;    ///< 0: from epochs
  double epochs = 1.0;  ///< used when steps == 0
  bool grad_checkpoint = false;
  /// Base products in float over dequantised weights instead of the 8-bit kernels (slower).
  bool exact_products = false;
  /// Forward weights kept unpacked in the GEMM's panel form (faster, ~1.25 B/weight more).
  bool resident_weights = false;
  int64_t save_every = 0;   ///< 0: only at the end
  int64_t valid_every = 0;  ///< 0: only at the end (when validation data is given)
  bool resume = false;
  int32_t threads = 0;
  int32_t keep_checkpoints = 3;  ///< newest checkpoints kept in out_dir (0 = all)
};

struct TrainProgress {
  int64_t step = 0, total_steps = 0;
  double loss = 0.0;  ///< mean over the batch's trained tokens
  double learning_rate = 0.0;
  double grad_norm = 0.0;
  double tokens_per_second = 0.0;  ///< sequence tokens processed per second (this run)
  double eta_seconds = 0.0;
  std::optional<double> valid_loss;
  bool checkpoint_saved = false;
};

struct TrainSummary {
  int64_t steps = 0;
  int64_t resumed_from = 0;
  double final_loss = 0.0;
  std::optional<double> valid_loss;
  double tokens_per_second = 0.0;
  std::filesystem::path adapter_dir;
  bool cancelled = false;
};

/// Trains until the configured steps, or until ctx is done (then a checkpoint is saved and
/// summary.cancelled is set). Writes the final adapter (PEFT files) into out_dir. Throws Error
/// for a bad configuration, a resume against another configuration, or I/O failures.
TrainSummary run_training(const Context& ctx, const TrainRunConfig& config,
                          const TrainDataset& train, const TrainDataset* valid,
                          const std::function<void(const TrainProgress&)>& progress = {});

/// Mean loss per trained token of `data` under the trainer's current adapter.
double mean_loss(LoraTrainer<float>& trainer, const TrainDataset& data);

}  // namespace inference::train
