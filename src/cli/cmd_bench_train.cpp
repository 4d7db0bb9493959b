// infer bench-train — LoRA training throughput (forward + backward over one sequence) against
// the forward-only prompt speed of the same model in the same run, with peak memory and a
// per-phase profile of the training pass — thin over train/train_bench.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "cli/command.hpp"
#include "train/train_bench.hpp"

namespace inference::cli {
namespace {

struct BenchTrainOptions {
  train::TrainBenchConfig config;
  std::string targets = "q_proj,v_proj";
  bool json = false;
};

struct Stats {
  double mean = 0, stddev = 0;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  if (v.empty()) return s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

void run(BenchTrainOptions& o) {
  o.config.targets.clear();
  std::stringstream in(o.targets);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) o.config.targets.push_back(item);
  }
  const auto r = train::run_train_bench(o.config);
  const Stats train = stats(r.train_tokens_per_second), pp = stats(r.pp_tokens_per_second);
  const double ratio = pp.mean > 0 ? train.mean / pp.mean : 0;
  const auto& ph = r.phases;
  const double other =
      ph.total - ph.base_forward - ph.base_backward - ph.lora - ph.attention - ph.output;
  if (o.json) {
    nlohmann::json j{{"model", o.config.model.string()},
                     {"seq_len", o.config.seq_len},
                     {"rank", o.config.rank},
                     {"targets", o.targets},
                     {"grad_checkpoint", o.config.grad_checkpoint},
                     {"reference", o.config.reference},
                     {"exact", o.config.exact},
                     {"resident_weights", o.config.resident_weights},
                     {"train_tokens_per_second", r.train_tokens_per_second},
                     {"pp_tokens_per_second", r.pp_tokens_per_second},
                     {"train_mean", train.mean},
                     {"pp_mean", pp.mean},
                     {"ratio", ratio},
                     {"setup_seconds", r.setup_seconds},
                     {"train_peak_rss_bytes", r.train_peak_rss},
                     {"pp_peak_rss_bytes", r.pp_peak_rss},
                     {"transposed_bytes", r.transposed_bytes},
                     {"resident_bytes", r.resident_bytes},
                     {"loss_per_token", r.loss_per_token},
                     {"phases_seconds",
                      {{"base_forward", ph.base_forward},
                       {"base_backward", ph.base_backward},
                       {"lora", ph.lora},
                       {"attention", ph.attention},
                       {"output", ph.output},
                       {"other", other},
                       {"total", ph.total}}}};
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("model %s, seq %d, rank %d, targets %s%s%s%s%s\n", o.config.model.string().c_str(),
              o.config.seq_len, o.config.rank, o.targets.c_str(),
              o.config.grad_checkpoint ? ", gradient checkpointing" : "",
              o.config.reference ? ", reference loops" : "",
              o.config.exact ? ", exact products" : "",
              o.config.resident_weights ? ", resident weights" : "");
  std::printf("pp%-5d forward only   %9.1f ± %.1f tok/s   peak RSS %.0f MiB\n", o.config.seq_len,
              pp.mean, pp.stddev, mib(r.pp_peak_rss));
  std::printf(
      "train%-5d fwd+bwd     %9.1f ± %.1f tok/s   peak RSS %.0f MiB (transposed weights "
      "%.0f MiB, resident weights %.0f MiB)\n",
      o.config.seq_len, train.mean, train.stddev, mib(r.train_peak_rss), mib(r.transposed_bytes),
      mib(r.resident_bytes));
  std::printf("train / pp = %.3f   (first pass incl. setup %.2f s, loss/token %.3f)\n", ratio,
              r.setup_seconds, r.loss_per_token);
  const auto line = [&](const char* name, double s) {
    std::printf("  %-14s %8.1f ms  %5.1f%%\n", name, s * 1e3,
                ph.total > 0 ? 100.0 * s / ph.total : 0.0);
  };
  std::printf("per pass:\n");
  line("base forward", ph.base_forward);
  line("base backward", ph.base_backward);
  line("lora", ph.lora);
  line("attention", ph.attention);
  line("output + CE", ph.output);
  line("other", other);
  line("total", ph.total);
}

void setup_bench_train(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "bench-train", "LoRA training tok/s vs forward-only prompt tok/s, peak memory, profile");
  auto o = std::make_shared<BenchTrainOptions>();
  cmd->add_option("model", o->config.model, "Base model: GGUF file or Safetensors directory")
      ->required();
  cmd->add_option("--seq", o->config.seq_len, "Sequence length in tokens")->capture_default_str();
  cmd->add_option("--rank", o->config.rank, "LoRA rank")->capture_default_str();
  cmd->add_option("--targets", o->targets, "Projections to adapt")->capture_default_str();
  cmd->add_option("-r,--reps", o->config.reps, "Timed repetitions (after one warm-up)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->config.threads, "Threads (0 = one per physical core)");
  cmd->add_flag("--grad-checkpoint", o->config.grad_checkpoint,
                "Recompute activations in the backward pass");
  cmd->add_flag("--reference", o->config.reference,
                "Time the reference loops instead of the engine kernels");
  cmd->add_flag("--exact", o->config.exact,
                "Float products over dequantised weights instead of the 8-bit kernels");
  cmd->add_flag("--resident-weights", o->config.resident_weights,
                "Keep the forward weights unpacked (faster, ~1.25 bytes per weight more memory)");
  cmd->add_flag("--json", o->json, "One JSON object on stdout");
  cmd->callback([o] { run(*o); });
}

const CommandRegistration kRegister{76, setup_bench_train};

}  // namespace
}  // namespace inference::cli
