// infer bench — llama-bench-style speed test: prompt processing (ppN: one prompt of N tokens)
// and generation (tgN: N tokens one at a time), tok/s mean ± stddev over repetitions, ms/token,
// achieved GB/s of weight reads and its fraction of this machine's measured memory bandwidth;
// peak resident memory against file size + KV cache; optionally the matmul floor per tensor kind
// (--profile). `infer bench --bandwidth` measures the bandwidth. The model is driven through the
// public contract (perf::ContractBench over TextModel); --engine times Engine::decode directly
// (the low-level path: ppN one decode batch, tgN N single-token decodes). -d N[,M...] repeats
// both tests after N tokens of context already in the cache (llama-bench's -d); the tg GB/s then
// counts the KV cache read per token at that depth with the weights. --kv-type picks the cache.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "engine/engine.hpp"
#include "formats/gguf.hpp"
#include "formats/memory_estimate.hpp"
#include "inference/backend.hpp"
#include "inference/context.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "perf/attention_profile.hpp"
#include "perf/bench_stats.hpp"
#include "perf/decode_profile.hpp"
#include "perf/matmul_profile.hpp"
#include "perf/memory_bandwidth.hpp"
#include "perf/model_bench.hpp"
#include "perf/model_traffic.hpp"

namespace inference::cli {
namespace {

using perf::BandwidthResult;
using perf::MatmulProfile;
using perf::ModelTraffic;
using perf::SampleStats;

struct BenchOptions {
  std::string model;
  int n_prompt = 512;
  int n_gen = 128;
  int threads = 0;
  int reps = 5;
  bool json = false;
  bool bandwidth = false;
  double bandwidth_gbs = 0;  // > 0: use instead of measuring
  int bandwidth_mib = 1024;
  int bandwidth_runs = 9;
  bool profile = false;
  bool engine = false;         // time Engine::decode directly instead of the contract
  bool no_huge_pages = false;  // weights read from the file mapping (native huge_pages=false)
  std::vector<int> depths{0};
  std::string kv_type = "f16";
  std::vector<std::string> lora;  // PATH[:SCALE]: also time the model with these (unmerged)
};

struct TestResult {
  std::string test;  // "pp512", "tg128", "tg128 @ d4096"
  int n_prompt = 0;
  int n_gen = 0;
  int depth = 0;
  uint64_t bytes_per_token = 0;  // weights + KV read per generated token (mean over the test)
  SampleStats tokens_per_second;
  SampleStats ms_per_token;
  double gb_per_second = 0;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Leaves sequence 0 holding exactly tokens[0, depth): kept if it already starts with them,
// else computed (untimed) in chunks the engine accepts.
void fill_depth(engine::Engine& e, const std::vector<int32_t>& tokens, int depth,
                std::vector<float>& logits) {
  const auto held = e.sequence_tokens(0);
  if (held.size() >= static_cast<size_t>(depth) &&
      std::equal(tokens.begin(), tokens.begin() + depth, held.begin())) {
    e.truncate_sequence(0, depth);
    return;
  }
  e.truncate_sequence(0, 0);
  constexpr int kChunk = 256;
  for (int p = 0; p < depth; p += kChunk) {
    std::vector<engine::BatchEntry> batch;
    for (int i = p; i < std::min(depth, p + kChunk); ++i)
      batch.push_back({tokens[static_cast<size_t>(i)], i, 0, i == depth - 1});
    e.decode(Context::background(), batch, logits);
  }
}

// One prompt batch of n tokens after `depth` cached ones; logits for the last one only.
double run_prompt(engine::Engine& e, const std::vector<int32_t>& tokens, int depth, int n,
                  std::vector<float>& logits) {
  fill_depth(e, tokens, depth, logits);
  std::vector<engine::BatchEntry> batch(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    batch[static_cast<size_t>(i)] = {tokens[static_cast<size_t>(depth + i)], depth + i, 0,
                                     i == n - 1};
  }
  const auto start = Clock::now();
  e.decode(Context::background(), batch, logits);
  return seconds_since(start);
}

// n single-token decodes after `depth` cached tokens (llama-bench's tg test).
double run_generation(engine::Engine& e, const std::vector<int32_t>& tokens, int depth, int n,
                      std::vector<float>& logits) {
  fill_depth(e, tokens, depth, logits);
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    const engine::BatchEntry entry{tokens[static_cast<size_t>(depth + i) % tokens.size()],
                                   depth + i, 0, true};
    e.decode(Context::background(), std::span(&entry, 1), logits);
  }
  return seconds_since(start);
}

TestResult summarise(std::string test, int n_prompt, int n_gen, int n_tokens,
                     const std::vector<double>& seconds, uint64_t bytes_per_pass,
                     int passes_per_run) {
  TestResult r{std::move(test), n_prompt, n_gen, 0, bytes_per_pass, {}, {}, 0};
  std::vector<double> tps, ms;
  for (double s : seconds) {
    tps.push_back(n_tokens / s);
    ms.push_back(1000.0 * s / n_tokens);
  }
  r.tokens_per_second = perf::sample_stats(tps);
  r.ms_per_token = perf::sample_stats(ms);
  const double mean_seconds = r.ms_per_token.mean * n_tokens / 1000.0;
  r.gb_per_second = static_cast<double>(bytes_per_pass) * passes_per_run / mean_seconds / 1e9;
  return r;
}

BandwidthResult bandwidth_for(const BenchOptions& o, int threads) {
  if (o.bandwidth_gbs > 0) {
    BandwidthResult given;
    given.gb_per_second = given.mean_gb_per_second = o.bandwidth_gbs;
    given.min_gb_per_second = given.max_gb_per_second = o.bandwidth_gbs;
    given.threads = threads;
    given.kernel = "given";
    return given;
  }
  return perf::measure_read_bandwidth(threads, static_cast<uint64_t>(o.bandwidth_mib) << 20,
                                      o.bandwidth_runs);
}

void print_bandwidth(const BandwidthResult& bw, bool json) {
  if (json) {
    nlohmann::json line = {{"test", "bandwidth"},
                           {"gb_per_second", bw.gb_per_second},
                           {"statistic", "median"},
                           {"min_gb_per_second", bw.min_gb_per_second},
                           {"max_gb_per_second", bw.max_gb_per_second},
                           {"mean_gb_per_second", bw.mean_gb_per_second},
                           {"spread", bw.spread()},
                           {"kernel", bw.kernel},
                           {"threads", bw.threads},
                           {"buffer_bytes", bw.buffer_bytes},
                           {"runs", bw.runs}};
    std::cout << line.dump() << "\n";
  } else {
    if (bw.runs == 0) {
      std::printf("memory read bandwidth: %.1f GB/s (given)\n", bw.gb_per_second);
      return;
    }
    std::printf(
        "memory read bandwidth: %.1f GB/s median of %d runs (min %.1f, max %.1f, spread "
        "%.0f%%; %d threads, %s loads, %llu MiB buffer)\n",
        bw.gb_per_second, bw.runs, bw.min_gb_per_second, bw.max_gb_per_second, 100.0 * bw.spread(),
        bw.threads, bw.kernel.c_str(), static_cast<unsigned long long>(bw.buffer_bytes >> 20));
  }
}

void print_profile(const MatmulProfile& p, bool json, double bench_ms_per_token) {
  const std::string test =
      p.n_tokens == 1 ? "matmul_floor_tg" : "matmul_floor_pp" + std::to_string(p.n_tokens);
  if (json) {
    nlohmann::json kinds = nlohmann::json::object();
    for (const auto& [kind, k] : p.by_kind) {
      kinds[kind] = {{"ms_per_pass", k.ms_per_pass}, {"bytes", k.bytes}, {"tensors", k.tensors}};
    }
    nlohmann::json line = {{"test", test},
                           {"n_tokens", p.n_tokens},
                           {"ms_per_pass", p.total_ms_per_pass},
                           {"ms_per_token", p.total_ms_per_pass / p.n_tokens},
                           {"bench_ms_per_token", bench_ms_per_token},
                           {"bytes", p.total_bytes},
                           {"by_kind", kinds},
                           {"skipped", p.skipped}};
    std::cout << line.dump() << "\n";
    return;
  }
  std::printf("\n%s: matmul() alone over every weight, %lld token(s) per pass, %d reps\n",
              test.c_str(), static_cast<long long>(p.n_tokens), p.reps);
  std::printf("| %-26s | %8s | %10s | %8s | %6s |\n", "tensor kind", "tensors", "ms/pass", "GB/s",
              "share");
  for (const auto& [kind, k] : p.by_kind) {
    std::printf("| %-26s | %8lld | %10.3f | %8.1f | %5.1f%% |\n", kind.c_str(),
                static_cast<long long>(k.tensors), k.ms_per_pass,
                k.ms_per_pass > 0 ? k.bytes / (k.ms_per_pass * 1e6) : 0.0,
                100.0 * k.ms_per_pass / p.total_ms_per_pass);
  }
  std::printf("| %-26s | %8s | %10.3f | %8.1f | %6s |\n", "all matmuls", "", p.total_ms_per_pass,
              p.total_bytes / (p.total_ms_per_pass * 1e6), "100%");
  if (bench_ms_per_token > 0) {
    const double per_pass = bench_ms_per_token * p.n_tokens;
    std::printf(
        "engine: %.3f ms per pass; everything but matmuls (attention, norms, RoPE, "
        "activations, threading): %.3f ms (%.1f%%)\n",
        per_pass, per_pass - p.total_ms_per_pass,
        100.0 * (per_pass - p.total_ms_per_pass) / per_pass);
  }
  for (const auto& name : p.skipped)
    std::printf("skipped (type not supported): %s\n", name.c_str());
}

// Attention of one decoded token at `depth`, timed alone (perf/attention_profile.hpp).
void print_attention_profile(const perf::AttentionProfile& p, const std::string& kv_type,
                             bool json) {
  const double gbs = p.bytes_per_token / (p.us_per_token * 1e3);
  if (json) {
    nlohmann::json line = {{"test", "attention_profile"},
                           {"n_depth", p.depth},
                           {"kv_type", kv_type},
                           {"us_per_token", p.us_per_token},
                           {"us_per_token_min", p.us_per_token_min},
                           {"kv_bytes_per_token", p.bytes_per_token},
                           {"gb_per_second", gbs},
                           {"work_items_per_layer", p.work_items_per_layer},
                           {"reps", p.reps}};
    std::cout << line.dump() << "\n";
    return;
  }
  std::printf(
      "attention alone at depth %d (%s cache, every layer): %.3f ms/token (best %.3f), KV read "
      "%.1f MiB/token, %.1f GB/s, %lld work items per layer\n",
      p.depth, kv_type.c_str(), p.us_per_token / 1e3, p.us_per_token_min / 1e3,
      p.bytes_per_token / 1048576.0, gbs, static_cast<long long>(p.work_items_per_layer));
}

// The per-operation profile of one decoded token at depth 0 (perf/decode_profile.hpp), against
// the engine's measured ms/token and the memory bandwidth.
void print_decode_profile(const perf::DecodeProfile& p, bool json, double bench_ms_per_token,
                          double bandwidth_gbs) {
  if (json) {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : p.ops) {
      ops.push_back({{"op", op.name},
                     {"us_per_token", op.us_per_token},
                     {"bytes_per_token", op.bytes_per_token},
                     {"calls_per_token", op.calls_per_token},
                     {"hot_gb_per_second", op.hot_gb_per_second},
                     {"hot_tensor_bytes", op.hot_tensor_bytes}});
    }
    nlohmann::json line = {{"test", "decode_profile"},
                           {"depth", 0},
                           {"reps", p.reps},
                           {"ops", ops},
                           {"sum_us_per_token", p.total_us_per_token},
                           {"bench_ms_per_token", bench_ms_per_token},
                           {"pool_run_us", p.pool_run_us},
                           {"pool_runs_per_token", p.pool_runs_per_token},
                           {"bandwidth_gb_per_second", bandwidth_gbs}};
    std::cout << line.dump() << "\n";
    return;
  }
  std::printf("\ndecode profile, depth 0: each operation class timed alone, %d reps\n", p.reps);
  std::printf("| %-26s | %6s | %9s | %6s | %8s | %6s | %17s |\n", "op class", "calls", "us/token",
              "share", "GB/s", "% bw", "hot GB/s (MiB)");
  for (const auto& op : p.ops) {
    const double gbs = op.us_per_token > 0 ? op.bytes_per_token / (op.us_per_token * 1e3) : 0.0;
    char hot[32] = "";
    if (op.hot_tensor_bytes > 0) {
      std::snprintf(hot, sizeof hot, "%.1f (%.1f)", op.hot_gb_per_second,
                    op.hot_tensor_bytes / 1048576.0);
    }
    std::printf("| %-26s | %6lld | %9.1f | %5.1f%% | %8.1f | %5.1f%% | %17s |\n", op.name.c_str(),
                static_cast<long long>(op.calls_per_token), op.us_per_token,
                100.0 * op.us_per_token / p.total_us_per_token, gbs,
                bandwidth_gbs > 0 ? 100.0 * gbs / bandwidth_gbs : 0.0, hot);
  }
  std::printf("sum of the classes: %.1f us/token; empty pool job %.2f us x %lld per token\n",
              p.total_us_per_token, p.pool_run_us, static_cast<long long>(p.pool_runs_per_token));
  if (bench_ms_per_token > 0) {
    std::printf("engine tg: %.1f us/token; not explained by the classes alone: %.1f us (%.1f%%)\n",
                1000.0 * bench_ms_per_token, 1000.0 * bench_ms_per_token - p.total_us_per_token,
                100.0 * (1000.0 * bench_ms_per_token - p.total_us_per_token) /
                    (1000.0 * bench_ms_per_token));
  }
}

// The base and the adapted engine alternately, rep by rep (base, adapted, base, …), so both see
// the same machine state; "ppN+lora" / "tgN+lora" follow the base's lines, and "lora_cost_*"
// lines give the adapted speed over the base's (mean of the per-rep ratios).
void add_lora_results(const BenchOptions& o, engine::Engine& base, engine::Engine& adapted,
                      const std::vector<int32_t>& tokens, const ModelTraffic& traffic,
                      std::vector<TestResult>& results) {
  std::vector<float> logits;
  auto both = [&](const std::string& test, int n_prompt, int n_gen, const auto& run) {
    std::vector<double> base_s, lora_s, ratios;
    run(base);     // warm-up of both engines (first-touch of the weights, the scratch)
    run(adapted);  // and of the adapter matrices
    for (int r = 0; r < o.reps; ++r) {
      base_s.push_back(run(base));
      lora_s.push_back(run(adapted));
      ratios.push_back(base_s.back() / lora_s.back());
    }
    const int n_tokens = n_prompt > 0 ? n_prompt : n_gen;
    const int passes = n_prompt > 0 ? 1 : n_gen;
    results.push_back(summarise(test + "/base", n_prompt, n_gen, n_tokens, base_s,
                                traffic.bytes_per_pass, passes));
    results.push_back(summarise(test + "+lora", n_prompt, n_gen, n_tokens, lora_s,
                                traffic.bytes_per_pass, passes));
    TestResult ratio{"lora_speed_ratio_" + test, n_prompt, n_gen, {}, {}, 0};
    ratio.tokens_per_second = perf::sample_stats(ratios);
    ratio.ms_per_token = perf::sample_stats(ratios);
    results.push_back(ratio);
  };
  if (o.n_prompt > 0)
    both("pp" + std::to_string(o.n_prompt), o.n_prompt, 0,
         [&](engine::Engine& e) { return run_prompt(e, tokens, 0, o.n_prompt, logits); });
  if (o.n_gen > 0)
    both("tg" + std::to_string(o.n_gen), 0, o.n_gen,
         [&](engine::Engine& e) { return run_generation(e, tokens, 0, o.n_gen, logits); });
}

void run_bench(const BenchOptions& o) {
  if (o.n_prompt < 0 || o.n_gen < 0) throw ExitRequest{kUsage, "bench: -p and -n must be >= 0"};
  if (o.reps < 1) throw ExitRequest{kUsage, "bench: -r must be >= 1"};
  if (o.threads < 0) throw ExitRequest{kUsage, "bench: -t must be >= 0 (0 = physical cores)"};
  if (o.bandwidth_mib < 16) throw ExitRequest{kUsage, "bench: --bandwidth-mib must be >= 16"};
  if (o.bandwidth_gbs < 0) throw ExitRequest{kUsage, "bench: --bandwidth-gbs must be > 0"};
  if (o.bandwidth_runs < 1) throw ExitRequest{kUsage, "bench: --bandwidth-runs must be >= 1"};
  if (o.model.empty() && !o.bandwidth) {
    throw ExitRequest{kUsage, "bench: give a MODEL file, or --bandwidth"};
  }
  if (!o.model.empty() && o.n_prompt == 0 && o.n_gen == 0 && !o.profile) {
    throw ExitRequest{kUsage, "bench: -p and -n are both 0: nothing to measure"};
  }
  const int threads = o.threads > 0 ? o.threads : kernels::physical_core_count();

  if (o.model.empty()) {
    print_bandwidth(bandwidth_for(o, threads), o.json);
    return;
  }

  if (!std::filesystem::exists(o.model)) {
    throw Error(ErrorCode::not_found, "bench: model file not found: " + o.model);
  }
  if (std::filesystem::is_directory(o.model)) {
    // The GB/s figures need the per-tensor byte counts of the GGUF tensor table.
    throw Error(ErrorCode::unsupported,
                "bench: " + o.model + " is a directory; bench measures GGUF files");
  }
  const auto kv_type = formats::kv_cache_type_from_name(o.kv_type);
  if (!kv_type) throw ExitRequest{kUsage, "bench: --kv-type must be f16, f32 or q8_0"};
  int max_depth = 0;
  for (int d : o.depths) {
    if (d < 0) throw ExitRequest{kUsage, "bench: -d must be >= 0"};
    max_depth = std::max(max_depth, d);
  }
  // The deepest test needs its context plus its own tokens (+1: tg's prompt token).
  const int n_ctx = std::max(1, max_depth + std::max(o.n_prompt, o.n_gen + 1));
  ModelTraffic traffic;
  uint64_t kv_bytes = 0, file_bytes = 0;
  // KV bytes one token at `pos` reads (positions 0..pos, every layer full-length).
  std::function<uint64_t(int)> kv_read_at;
  {
    // Closed before the engine loads: its parsed metadata (a 150k-token vocabulary is tens of
    // MB) must not count in the peak RSS reported for the engine.
    const auto file = formats::GgufFile::open(o.model);
    traffic = perf::model_traffic(file);
    kv_bytes = perf::kv_cache_bytes(file, n_ctx, *kv_type);
    file_bytes = file.file_size();
    const uint64_t per_position = perf::kv_cache_bytes(file, 1, *kv_type);
    kv_read_at = [per_position](int pos) { return per_position * static_cast<uint64_t>(pos + 1); };
  }

  // One timing function per test, over the contract or (--engine) the engine itself.
  std::function<double(int, int)> time_prompt, time_generation;  // (depth, n)
  std::vector<int32_t> tokens;
  std::vector<float> logits;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<TextModel> model;
  std::optional<perf::ContractBench> contract;
  ModelInfo info;
  // --lora: the same file loaded again with the adapters applied unmerged, timed in turn with
  // the base in every repetition, so the cost ratio comes from one run under the same noise.
  std::unique_ptr<engine::Engine> lora_engine;
  if (o.engine || !o.lora.empty()) {
    engine::ModelLoadOptions load;
    load.context_length = n_ctx;
    load.threads = threads;
    load.kv_cache_type = o.kv_type;
    load.huge_page_weights = !o.no_huge_pages;
    engine = engine::Engine::load(o.model, load);
    if (!o.lora.empty()) {
      for (const auto& flag : o.lora) load.adapters.push_back(parse_adapter_flag(flag));
      lora_engine = engine::Engine::load(o.model, load);
    }
    info = engine->info();
    tokens = perf::bench_tokens(max_depth + std::max({o.n_prompt, o.n_gen, 1}), engine->n_vocab());
    time_prompt = [&](int d, int n) { return run_prompt(*engine, tokens, d, n, logits); };
    time_generation = [&](int d, int n) { return run_generation(*engine, tokens, d, n, logits); };
  } else {
    LoadConfig load;
    // Through the contract every request samples at least one token after its prompt (ppN is
    // a request for one token after N), and tgN from a one-token prompt evaluates N positions;
    // at depth, the prompt test's request also samples one token after its depth + p.
    load.context_length = std::max(n_ctx + 1, o.n_gen + 1) + (max_depth > 0 ? 2 : 0);
    load.threads = threads;
    load.kv_cache_type = o.kv_type;
    if (o.no_huge_pages) load.options.emplace("huge_pages", "false");
    model = load_model(o.model, load);
    info = model->info();
    contract.emplace(*model);
    tokens =
        perf::bench_tokens(max_depth + std::max({o.n_prompt, o.n_gen, 1}) + 1, contract->n_vocab());
    time_prompt = [&](int d, int n) { return contract->prompt_pass_at(tokens, d, n); };
    time_generation = [&](int d, int n) { return contract->generation_at(tokens, d, n); };
  }

  // Warm-up, as llama-bench: pages the weights in and lets the pool's threads spin up.
  if (o.n_prompt > 0) time_prompt(0, o.n_prompt);
  if (o.n_gen > 0) time_generation(0, 1);

  std::vector<TestResult> results;
  for (int depth : o.depths) {
    const std::string at = depth > 0 ? " @ d" + std::to_string(depth) : "";
    if (o.n_prompt > 0) {
      std::vector<double> seconds;
      for (int r = 0; r < o.reps; ++r) seconds.push_back(time_prompt(depth, o.n_prompt));
      results.push_back(summarise("pp" + std::to_string(o.n_prompt) + at, o.n_prompt, 0, o.n_prompt,
                                  seconds, traffic.bytes_per_pass, 1));
      results.back().depth = depth;
    }
    if (o.n_gen > 0) {
      // Generated token i (0-based) sits at position depth + i and reads that many + 1 cells.
      uint64_t kv_read = 0;
      for (int i = 0; i < o.n_gen; ++i) kv_read += kv_read_at(depth + i);
      const uint64_t per_token = traffic.bytes_per_pass + kv_read / static_cast<uint64_t>(o.n_gen);
      std::vector<double> seconds;
      for (int r = 0; r < o.reps; ++r) seconds.push_back(time_generation(depth, o.n_gen));
      results.push_back(summarise("tg" + std::to_string(o.n_gen) + at, 0, o.n_gen, o.n_gen, seconds,
                                  per_token, o.n_gen));
      results.back().depth = depth;
    }
  }
  if (lora_engine) add_lora_results(o, *engine, *lora_engine, tokens, traffic, results);
  const uint64_t rss = perf::peak_rss_bytes();
  const uint64_t budget = file_bytes + kv_bytes;
  const std::string model_name = std::filesystem::path(o.model).filename().string();
  const uint64_t engine_bytes =
      engine ? engine->memory_bytes() : model->metrics().active_memory_bytes;
  double tg_ms = 0, pp_ms = 0;
  for (const auto& r : results) {
    if (r.depth == o.depths.front()) (r.n_gen > 0 ? tg_ms : pp_ms) = r.ms_per_token.mean;
  }
  // The bandwidth buffer is allocated only now, after the peak RSS was read and the engine's
  // threads are gone, so it neither inflates the memory figure nor competes with the engine.
  contract.reset();
  model.reset();
  engine.reset();
  lora_engine.reset();
  // Printed once, in every mode: every row's "% bw" below divides by this one figure.
  const auto bandwidth = bandwidth_for(o, threads);
  if (o.bandwidth || !o.json) print_bandwidth(bandwidth, o.json);

  if (o.json) {
    for (const auto& r : results) {
      nlohmann::json line = {
          {"model", model_name},
          {"architecture", info.architecture},
          {"type", info.quantization},
          {"params", info.parameter_count},
          {"file_bytes", file_bytes},
          {"threads", threads},
          {"test", r.test},
          {"n_prompt", r.n_prompt},
          {"n_gen", r.n_gen},
          {"n_depth", r.depth},
          {"kv_type", o.kv_type},
          {"bytes_per_token", r.bytes_per_token},
          {"reps", o.reps},
          {"tokens_per_second", r.tokens_per_second.mean},
          {"tokens_per_second_stddev", r.tokens_per_second.stddev},
          {"ms_per_token", r.ms_per_token.mean},
          {"ms_per_token_stddev", r.ms_per_token.stddev},
          {"weight_bytes_per_pass", traffic.bytes_per_pass},
          {"gb_per_second", r.gb_per_second},
          {"bandwidth_gb_per_second", bandwidth.gb_per_second},
          {"bandwidth_spread", bandwidth.spread()},
          {"bandwidth_fraction", r.gb_per_second / bandwidth.gb_per_second},
          {"peak_rss_bytes", rss},
          {"kv_cache_bytes", kv_bytes},
          {"engine_memory_bytes", engine_bytes},
          {"rss_over_file_plus_kv", budget > 0 ? static_cast<double>(rss) / budget : 0.0},
          {"path", o.engine || !o.lora.empty() ? "engine" : "contract"}};
      std::cout << line.dump() << "\n";
    }
  } else {
    std::printf(
        "model: %s (%s, %s, %.2f GiB, %.0f M params), %d threads, bandwidth %.1f GB/s "
        "(%s)\n",
        model_name.c_str(), info.architecture.c_str(), info.quantization.c_str(),
        file_bytes / 1073741824.0, info.parameter_count / 1e6, threads, bandwidth.gb_per_second,
        o.bandwidth_gbs > 0 ? "given" : "measured");
    std::printf("| %-15s | %18s | %9s | %7s | %6s |\n", "test", "t/s", "ms/token", "GB/s", "% bw");
    for (const auto& r : results) {
      std::ostringstream tps;
      tps.precision(2);
      tps << std::fixed << r.tokens_per_second.mean << " ± " << r.tokens_per_second.stddev;
      std::printf("| %-15s | %18s | %9.2f | %7.1f | %5.1f%% |\n", r.test.c_str(), tps.str().c_str(),
                  r.ms_per_token.mean, r.gb_per_second,
                  100.0 * r.gb_per_second / bandwidth.gb_per_second);
    }
    std::printf(
        "memory: peak RSS %.1f MiB; file %.1f MiB + KV cache (%s, %d positions) %.1f MiB "
        "= %.1f MiB; ratio %.2f\n",
        rss / 1048576.0, file_bytes / 1048576.0, o.kv_type.c_str(), n_ctx, kv_bytes / 1048576.0,
        budget / 1048576.0, budget > 0 ? static_cast<double>(rss) / budget : 0.0);
  }

  if (o.profile) {
    // The profiles lay the weights out as the engine does, in a copy of their own: the models
    // timed above go first, so that memory holds the weights once.
    contract.reset();
    model.reset();
    lora_engine.reset();
    engine.reset();
    const auto file = formats::GgufFile::open(o.model);
    kernels::ThreadPool pool(threads);
    const perf::ResidentTensors tensors(file, pool, !o.no_huge_pages);  // laid out once
    print_profile(perf::profile_matmuls(file, tensors, pool, 1, std::max(3, o.reps)), o.json,
                  tg_ms);
    print_decode_profile(perf::profile_decode(file, tensors, pool, std::max(3, o.reps)), o.json,
                         tg_ms, bandwidth.gb_per_second);
    if (o.n_prompt > 0) {
      print_profile(perf::profile_matmuls(file, tensors, pool, o.n_prompt, 1), o.json, pp_ms);
    }
    for (int depth : o.depths) {
      try {
        print_attention_profile(
            perf::profile_attention(file, pool, depth, *kv_type, std::max(3, o.reps)), o.kv_type,
            o.json);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::unsupported) throw;
        std::fprintf(stderr, "attention profile skipped: %s\n", e.what());
      }
    }
  }
}

void setup_bench(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "bench", "Measure prompt-processing and generation speed (like llama-bench)");
  auto o = std::make_shared<BenchOptions>();
  cmd->add_option("model", o->model, "GGUF model file");
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens in the pp test (0 = skip)")
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens in the tg test (0 = skip)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = physical cores)");
  cmd->add_option("-r,--repetitions", o->reps, "Repetitions of each test")->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object per test, one per line");
  cmd->add_flag("--bandwidth", o->bandwidth, "Measure and print the memory read bandwidth");
  cmd->add_option("--bandwidth-gbs", o->bandwidth_gbs,
                  "Use this bandwidth (GB/s) for the % column instead of measuring it");
  cmd->add_option("--bandwidth-mib", o->bandwidth_mib,
                  "Buffer size of the bandwidth measurement (MiB; far above the L3 size)")
      ->capture_default_str();
  cmd->add_option("--bandwidth-runs", o->bandwidth_runs,
                  "Runs of the bandwidth measurement (the median is reported)")
      ->capture_default_str();
  cmd->add_flag("--profile", o->profile,
                "Also time matmul() alone per tensor kind (the matmul floor of each test)");
  cmd->add_option("-d,--n-depth", o->depths,
                  "Context depths: run each test after this many tokens already in the cache "
                  "(comma-separated list, e.g. -d 0,4096)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16, f32, q8_0")->capture_default_str();
  cmd->add_flag("--no-huge-pages", o->no_huge_pages,
                "Read the weights from the file mapping (native option huge_pages=false) instead "
                "of a copy in transparent huge pages");
  cmd->add_flag("--engine", o->engine,
                "Time the engine's decode calls directly instead of driving the model through "
                "the public API");
  cmd->add_option("--lora", o->lora,
                  "Also time the model with this LoRA adapter PATH[:SCALE] applied unmerged "
                  "(repeatable; alternates with the base in each repetition; implies --engine)");
  cmd->callback([o] { run_bench(*o); });
}

const CommandRegistration kRegister{60, setup_bench};

}  // namespace
}  // namespace inference::cli
