#include "train/train_bench.hpp"

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/engine.hpp"
#include "inference/context.hpp"
#include "inference/error.hpp"

namespace inference::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";  // resets VmHWM to the current RSS
  return static_cast<bool>(out.flush());
}

TrainBenchResult run_train_bench(const TrainBenchConfig& config) {
  if (config.seq_len < 2) throw Error(ErrorCode::invalid_argument, "--seq must be at least 2");
  if (config.reps < 1) throw Error(ErrorCode::invalid_argument, "--reps must be at least 1");
  TrainBenchResult result;
  const auto n = static_cast<size_t>(config.seq_len);
  std::vector<int32_t> tokens(n);

  // Forward-only prompt processing: the engine's prefill of seq_len tokens, logits for the last.
  {
    engine::ModelLoadOptions options;
    options.context_length = config.seq_len;
    options.threads = config.threads;
    auto engine = engine::Engine::load(config.model, options);
    std::mt19937_64 rng(config.seed);
    const int32_t vocab = engine->n_vocab();
    for (auto& t : tokens) t = static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab));
    std::vector<engine::BatchEntry> batch(n);
    for (size_t i = 0; i < n; ++i) batch[i] = {tokens[i], static_cast<int32_t>(i), 0, i + 1 == n};
    std::vector<float> logits;
    for (int32_t r = 0; r <= config.reps; ++r) {
      engine->truncate_sequence(0, 0);
      const auto start = Clock::now();
      engine->decode(Context::background(), batch, logits);
      const double s = seconds_since(start);
      if (r > 0) result.pp_tokens_per_second.push_back(static_cast<double>(n) / s);
    }
    result.pp_peak_rss = peak_rss_bytes();
  }

  reset_peak_rss();
  LoraTrainer<float> trainer(config.model, config.threads);
  trainer.set_gradient_checkpointing(config.grad_checkpoint);
  trainer.set_reference_path(config.reference);
  trainer.set_exact_products(config.exact);
  trainer.set_resident_weights(config.resident_weights);
  trainer.init(
      {.rank = config.rank, .alpha = 16.0f, .targets = config.targets, .seed = config.seed});
  std::vector<uint8_t> mask(n, 1);
  mask[0] = 0;
  const double scale = 1.0 / static_cast<double>(n - 1);
  for (int32_t r = 0; r <= config.reps; ++r) {
    trainer.zero_grad();
    if (r == 1) trainer.reset_phase_times();
    const auto start = Clock::now();
    result.loss_per_token = trainer.accumulate(tokens, mask, scale) * scale;
    const double s = seconds_since(start);
    if (r == 0) {
      result.setup_seconds = s;
    } else {
      result.train_tokens_per_second.push_back(static_cast<double>(n) / s);
    }
  }
  result.train_peak_rss = peak_rss_bytes();
  result.transposed_bytes = trainer.transposed_weight_bytes();
  result.resident_bytes = trainer.resident_weight_bytes();
  result.phases = trainer.phase_times();
  const double k = 1.0 / config.reps;
  for (double* p : {&result.phases.base_forward, &result.phases.base_backward, &result.phases.lora,
                    &result.phases.attention, &result.phases.output, &result.phases.total})
    *p *= k;
  return result;
}

}  // namespace inference::train
