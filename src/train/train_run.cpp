#include "train/train_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>

#include "inference/error.hpp"
#include "train/lora_checkpoint.hpp"

namespace inference::train {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

uint64_t mix_double(uint64_t h, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return mix(h, bits);
}

uint64_t config_hash(const TrainRunConfig& c, int64_t total_steps, uint64_t data_hash) {
  uint64_t h = mix(0, static_cast<uint64_t>(c.lora.rank));
  h = mix_double(h, c.lora.alpha);
  for (const auto& t : c.lora.targets) h = mix(h, std::hash<std::string>{}(t));
  h = mix(h, c.lora.seed);
  h = mix_double(h, c.optimizer.learning_rate);
  h = mix_double(h, c.optimizer.weight_decay);
  h = mix_double(h, c.optimizer.clip_norm);
  h = mix(h, static_cast<uint64_t>(c.optimizer.warmup_steps));
  h = mix(h, std::hash<std::string>{}(c.optimizer.schedule));
  h = mix(h, static_cast<uint64_t>(c.batch_size));
  h = mix(h, static_cast<uint64_t>(total_steps));
  return mix(h, data_hash);
}

// The example index at position k of the run's stream: each epoch is a seeded permutation.
class DataOrder {
 public:
  DataOrder(size_t n, uint64_t seed) : n_(n), seed_(seed) {}
  size_t at(int64_t k) {
    const int64_t epoch = k / static_cast<int64_t>(n_);
    if (epoch != epoch_) {
      order_.resize(n_);
      std::iota(order_.begin(), order_.end(), size_t{0});
      std::mt19937_64 rng(seed_ * 1000003u + static_cast<uint64_t>(epoch));
      for (size_t i = n_; i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
      epoch_ = epoch;
    }
    return order_[static_cast<size_t>(k % static_cast<int64_t>(n_))];
  }

 private:
  size_t n_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<size_t> order_;
};

std::string checkpoint_name(int64_t step) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "checkpoint-%08lld", static_cast<long long>(step));
  return buffer;
}

// Removes all but the newest `keep` checkpoints (names sort by step).
void prune_checkpoints(const std::filesystem::path& dir, int32_t keep) {
  if (keep <= 0) return;
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("checkpoint-") && name.find(".partial") == std::string::npos)
      found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < found.size(); ++i)
    std::filesystem::remove_all(found[i], ec);
}

}  // namespace

double mean_loss(LoraTrainer<float>& trainer, const TrainDataset& data) {
  double total = 0;
  int64_t tokens = 0;
  for (const auto& e : data.examples) {
    total += trainer.loss(e.tokens, e.mask);
    tokens += e.trained_tokens();
  }
  return tokens > 0 ? total / static_cast<double>(tokens) : 0.0;
}

TrainSummary run_training(const Context& ctx, const TrainRunConfig& config,
                          const TrainDataset& train, const TrainDataset* valid,
                          const std::function<void(const TrainProgress&)>& progress) {
  if (train.examples.empty()) throw Error(ErrorCode::invalid_argument, "no training examples");
  if (config.batch_size < 1) throw Error(ErrorCode::invalid_argument, "batch size must be >= 1");
  if (!(config.optimizer.learning_rate > 0) || config.optimizer.learning_rate > 1)
    throw Error(ErrorCode::invalid_argument, "learning rate must be in (0, 1]");
  if (config.steps < 0 || !(config.epochs > 0 || config.steps > 0))
    throw Error(ErrorCode::invalid_argument, "give a positive number of steps or epochs");
  const int64_t n = static_cast<int64_t>(train.examples.size());
  const int64_t total_steps =
      config.steps > 0
          ? config.steps
          : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                     config.epochs * static_cast<double>(n) / config.batch_size)));
  if (total_steps > 100'000'000) throw Error(ErrorCode::invalid_argument, "too many steps");

  LoraTrainer<float> trainer(config.model, config.threads);
  trainer.set_gradient_checkpointing(config.grad_checkpoint);
  trainer.set_exact_products(config.exact_products);
  trainer.set_resident_weights(config.resident_weights);
  trainer.init(config.lora);
  const uint64_t hash = config_hash(config, total_steps, train.hash);
  const std::string base = config.model.string();

  TrainSummary summary;
  int64_t step = 0;
  if (config.resume) {
    if (auto latest = latest_checkpoint(config.out_dir)) {
      const TrainerState state = load_checkpoint(*latest, trainer.lora());
      if (state.config_hash != hash) {
        throw Error(ErrorCode::invalid_argument,
                    latest->string() +
                        " was written with another configuration or other "
                        "training data; start a new --out directory");
      }
      step = state.step;
      summary.resumed_from = step;
    }
  }
  std::filesystem::create_directories(config.out_dir);

  DataOrder order(static_cast<size_t>(n), config.lora.seed);
  const auto started = Clock::now();
  int64_t tokens_seen = 0;
  double last_loss = 0;
  auto save = [&](int64_t at) {
    save_checkpoint(trainer.lora(), trainer.hparams(), trainer.qk_permuted(), base,
                    {at, total_steps, hash, last_loss}, config.out_dir / checkpoint_name(at));
    prune_checkpoints(config.out_dir, config.keep_checkpoints);
  };
  while (step < total_steps) {
    if (ctx.cancelled()) {
      save(step);
      summary.cancelled = true;
      break;
    }
    int64_t trained = 0;
    std::vector<size_t> batch;
    for (int32_t j = 0; j < config.batch_size; ++j) {
      batch.push_back(order.at(step * config.batch_size + j));
      trained += train.examples[batch.back()].trained_tokens();
    }
    trainer.zero_grad();
    double loss = 0;
    for (size_t index : batch) {
      const auto& e = train.examples[index];
      loss += trainer.accumulate(e.tokens, e.mask, 1.0 / static_cast<double>(trained));
      tokens_seen += static_cast<int64_t>(e.tokens.size());
    }
    ++step;
    const double lr = learning_rate_at(config.optimizer, step, total_steps);
    const double norm = adamw_step(trainer.lora(), config.optimizer, step, lr);
    last_loss = loss / static_cast<double>(trained);

    TrainProgress p;
    p.step = step;
    p.total_steps = total_steps;
    p.loss = last_loss;
    p.learning_rate = lr;
    p.grad_norm = norm;
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    p.tokens_per_second = seconds > 0 ? static_cast<double>(tokens_seen) / seconds : 0.0;
    const int64_t done = step - summary.resumed_from;
    p.eta_seconds =
        done > 0 ? seconds / static_cast<double>(done) * static_cast<double>(total_steps - step)
                 : 0.0;
    const bool last = step == total_steps;
    if (valid != nullptr && !valid->examples.empty() &&
        (last || (config.valid_every > 0 && step % config.valid_every == 0))) {
      p.valid_loss = mean_loss(trainer, *valid);
      summary.valid_loss = p.valid_loss;
    }
    if (!last && config.save_every > 0 && step % config.save_every == 0) {
      save(step);
      p.checkpoint_saved = true;
    }
    if (progress) progress(p);
    summary.tokens_per_second = p.tokens_per_second;
  }
  summary.steps = step;
  summary.final_loss = last_loss;
  if (!summary.cancelled) {
    save(step);
    save_peft_adapter(trainer.lora(), trainer.hparams(), trainer.qk_permuted(), base,
                      config.out_dir);
  }
  summary.adapter_dir = config.out_dir;
  return summary;
}

}  // namespace inference::train
