// train/adamw.hpp — AdamW with bias correction and decoupled weight decay, global-norm gradient
// clipping, and the learning-rate schedule (linear warm-up, then constant or cosine decay).
#pragma once

#include <cstdint>
#include <string>

#include "train/lora_trainer.hpp"

namespace inference::train {

struct OptimizerConfig {
  double learning_rate = 1e-5;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weight_decay = 0.0;
  double clip_norm = 1.0;  ///< <= 0: no clipping
  int64_t warmup_steps = 0;
  std::string schedule = "cosine";  ///< "cosine" (to 0 at total_steps) or "constant"
};

/// The learning rate of 1-based `step` out of `total_steps`.
double learning_rate_at(const OptimizerConfig& config, int64_t step, int64_t total_steps);

/// One update of every LoRA matrix from its gradient; `step` is 1-based (bias correction).
/// Returns the gradient norm before clipping.
template <typename T>
double adamw_step(TrainableLora<T>& lora, const OptimizerConfig& config, int64_t step,
                  double learning_rate);

}  // namespace inference::train
