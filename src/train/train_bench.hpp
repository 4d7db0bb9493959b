// train/train_bench.hpp — training throughput against forward-only prompt processing, measured
// in one process on the same model and thread count: tokens/s of a LoRA forward+backward pass
// over one sequence, tokens/s of the engine's prompt pass over the same number of tokens, their
// ratio, peak resident memory of each, and where the training pass's time goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "train/lora_trainer.hpp"

namespace inference::train {

struct TrainBenchConfig {
  std::filesystem::path model;
  int32_t seq_len = 256;
  int32_t rank = 8;
  std::vector<std::string> targets = {"q_proj", "v_proj"};
  int32_t reps = 3;  ///< timed repetitions of each test, after one warm-up
  int32_t threads = 0;
  bool grad_checkpoint = false;
  bool reference = false;         ///< time the reference loops instead of the engine kernels
  bool exact = false;             ///< float products over dequantised weights (LoraTrainer)
  bool resident_weights = false;  ///< LoraTrainer::set_resident_weights
  uint64_t seed = 1;
};

struct TrainBenchResult {
  std::vector<double> train_tokens_per_second;  ///< one per repetition
  std::vector<double> pp_tokens_per_second;
  double setup_seconds = 0;     ///< the first (warm-up) training pass, transposed copies included
  uint64_t pp_peak_rss = 0;     ///< bytes, engine loaded and prompt run
  uint64_t train_peak_rss = 0;  ///< bytes, training passes (the peak is reset in between)
  size_t transposed_bytes = 0;
  size_t resident_bytes = 0;
  TrainPhaseTimes phases;     ///< per timed pass (mean)
  double loss_per_token = 0;  ///< of the last pass (a sanity figure: about ln(vocab) at start)
};

/// Throws inference::Error for a model that cannot be loaded or a bad configuration.
TrainBenchResult run_train_bench(const TrainBenchConfig& config);

/// Peak resident set size of this process so far (VmHWM), 0 where unknown.
uint64_t peak_rss_bytes();
/// Restarts the peak (Linux: /proc/self/clear_refs); false where unsupported.
bool reset_peak_rss();

}  // namespace inference::train
