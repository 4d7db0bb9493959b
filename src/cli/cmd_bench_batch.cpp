// infer bench-batch — continuous-batching throughput of the native backend: N concurrent streams
// (one consumer thread each, as a server would have), each generating G tokens after a short
// prompt, for every N of --parallel. Reports aggregate generated tok/s (all streams together),
// the decode-phase aggregate (from the moment every stream had its first token), per-stream
// decode tok/s and time to first token, and forward passes per generated token.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <latch>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include <time.h>

#include "cli/command.hpp"
#include "inference/capabilities.hpp"
#include "inference/inference.hpp"

namespace inference::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchBatchOptions {
  std::string model;
  std::string parallel = "1,4,8";
  int n_gen = 128;
  int n_prompt = 16;
  int threads = 0;
  int reps = 1;
  bool json = false;
  bool round_robin = false;     // one thread pulls every stream in turn (no consumer threads)
  bool packed_weights = false;  // the native option packed_weights (docs/batching.md)
};

std::vector<int> parse_levels(const std::string& text) {
  std::vector<int> levels;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const int n = std::stoi(item, &used);
      if (used != item.size() || n < 1 || n > 256) throw std::invalid_argument(item);
      levels.push_back(n);
    } catch (const std::exception&) {
      throw ExitRequest{kUsage,
                        "bench-batch: --parallel wants a list of counts 1..256 like "
                        "1,4,8; got '" +
                            item + "'"};
    }
  }
  if (levels.empty()) throw ExitRequest{kUsage, "bench-batch: --parallel is empty"};
  return levels;
}

struct LevelResult {
  int streams = 0;
  double seconds = 0;               // start to last stream's end
  double aggregate_tps = 0;         // all generated tokens / seconds
  double decode_aggregate_tps = 0;  // tokens after every stream's first / time since then
  double stream_decode_tps = 0;     // mean of the streams' own decode tok/s
  double ttft_ms = 0;               // mean time to first token
  double passes_per_token = 0;      // forward passes / generated tokens
  double cpu_ms_per_token = 0;      // process CPU time / generated tokens (less load-sensitive)
};

// CPU time of the whole process: on a shared machine wall time depends on the neighbours, CPU
// time much less.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

LevelResult summarise(int streams, Clock::time_point start,
                      const std::vector<Clock::time_point>& first,
                      const std::vector<Clock::time_point>& last, const std::vector<Status>& status,
                      const std::vector<GenerateMetrics>& metrics, ServingStats* stats,
                      uint64_t passes_before, double cpu_before);

LevelResult run_level(TextModel& model, int streams, const BenchBatchOptions& o) {
  auto& tokens = dynamic_cast<TokenPromptModel&>(model);
  auto* stats = dynamic_cast<ServingStats*>(&model);
  const auto n_vocab = static_cast<int32_t>(model.info().vocab_size);
  std::mt19937 gen(42);
  std::uniform_int_distribution<int32_t> dist(0, n_vocab - 1);
  std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(streams));
  for (auto& p : prompts) {
    p.resize(static_cast<size_t>(o.n_prompt));
    for (auto& id : p) id = dist(gen);  // distinct prompts: no shared cached prefix
  }
  const uint64_t passes_before = stats ? stats->serving_state().steps : 0;
  const double cpu_before = process_cpu_seconds();
  std::mutex mu;
  std::vector<GenerateMetrics> metrics(static_cast<size_t>(streams));
  std::vector<Clock::time_point> first(static_cast<size_t>(streams));
  std::vector<Clock::time_point> last(static_cast<size_t>(streams));
  std::vector<Status> status(static_cast<size_t>(streams));
  if (o.round_robin) {
    const auto start = Clock::now();
    std::vector<TokenStream> open;
    for (const auto& p : prompts)
      open.push_back(
          tokens.generate_tokens(Context::background(), p,
                                 {.max_tokens = o.n_gen, .temperature = 0.0f, .ignore_eos = true}));
    for (bool more = true; more;) {
      more = false;
      for (size_t k = 0; k < open.size(); ++k) {
        Token t;
        if (open[k].next(t)) {
          if (first[k] == Clock::time_point{}) first[k] = Clock::now();
          more = true;
        } else if (last[k] == Clock::time_point{}) {
          last[k] = Clock::now();
          status[k] = open[k].err();
          metrics[k] = open[k].metrics();
        }
      }
    }
    return summarise(streams, start, first, last, status, metrics, stats, passes_before,
                     cpu_before);
  }
  std::latch ready(streams + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < streams; ++i) {
    threads.emplace_back([&, i] {
      const auto k = static_cast<size_t>(i);
      ready.arrive_and_wait();
      auto stream =
          tokens.generate_tokens(Context::background(), prompts[k],
                                 {.max_tokens = o.n_gen, .temperature = 0.0f, .ignore_eos = true});
      bool got_first = false;
      for (const Token& t : stream) {
        (void)t;
        if (!got_first) {
          first[k] = Clock::now();
          got_first = true;
        }
      }
      last[k] = Clock::now();
      status[k] = stream.err();
      metrics[k] = stream.metrics();
    });
  }
  const auto start = Clock::now();
  ready.arrive_and_wait();
  for (auto& t : threads) t.join();
  return summarise(streams, start, first, last, status, metrics, stats, passes_before, cpu_before);
}

LevelResult summarise(int streams, Clock::time_point start,
                      const std::vector<Clock::time_point>& first,
                      const std::vector<Clock::time_point>& last, const std::vector<Status>& status,
                      const std::vector<GenerateMetrics>& metrics, ServingStats* stats,
                      uint64_t passes_before, double cpu_before) {
  const double cpu_seconds = process_cpu_seconds() - cpu_before;
  for (const auto& s : status)
    if (!s.ok()) throw Error(s);
  LevelResult r;
  r.streams = streams;
  const auto end = *std::max_element(last.begin(), last.end());
  const auto all_started = *std::max_element(first.begin(), first.end());
  r.seconds = std::chrono::duration<double>(end - start).count();
  int64_t generated = 0;
  for (const auto& m : metrics) {
    generated += m.generated_tokens;
    r.stream_decode_tps += m.decode_tokens_per_second / streams;
    r.ttft_ms += std::chrono::duration<double, std::milli>(m.time_to_first_token).count() / streams;
  }
  r.aggregate_tps = static_cast<double>(generated) / r.seconds;
  if (generated > 0) r.cpu_ms_per_token = 1000.0 * cpu_seconds / static_cast<double>(generated);
  // Tokens produced after the last stream got its first one, over that interval (an estimate:
  // each stream's tokens after all_started are those after its own first, minus what came
  // between its first and all_started, which is small next to G).
  const double decode_seconds = std::chrono::duration<double>(end - all_started).count();
  if (decode_seconds > 0)
    r.decode_aggregate_tps = static_cast<double>(generated - streams) / decode_seconds;
  if (stats && generated > 0)
    r.passes_per_token = static_cast<double>(stats->serving_state().steps - passes_before) /
                         static_cast<double>(generated);
  return r;
}

void run_bench_batch(const BenchBatchOptions& o) {
  if (o.model.empty()) throw ExitRequest{kUsage, "bench-batch: give a MODEL file"};
  if (o.n_gen < 1 || o.n_prompt < 1 || o.reps < 1 || o.threads < 0)
    throw ExitRequest{kUsage, "bench-batch: -n, -p and -r must be >= 1, -t >= 0"};
  const auto levels = parse_levels(o.parallel);
  const int max_streams = *std::max_element(levels.begin(), levels.end());
  LoadConfig config{.backend = "native",
                    .context_length = o.n_prompt + o.n_gen + 8,
                    .parallel_slots = max_streams,
                    .threads = o.threads};
  if (o.packed_weights) config.options.emplace("packed_weights", "true");
  auto model = load_model(o.model, config);
  if (!o.json)
    std::printf("| %7s | %8s | %13s | %14s | %10s | %8s | %12s | %10s |\n", "streams", "seconds",
                "aggregate t/s", "decode agg t/s", "stream t/s", "ttft ms", "passes/token",
                "cpu ms/tok");
  for (int rep = 0; rep < o.reps; ++rep) {
    for (int streams : levels) {
      const LevelResult r = run_level(*model, streams, o);
      if (o.json) {
        nlohmann::json line = {{"test", "batch_tg" + std::to_string(o.n_gen)},
                               {"streams", r.streams},
                               {"seconds", r.seconds},
                               {"aggregate_tokens_per_second", r.aggregate_tps},
                               {"decode_aggregate_tokens_per_second", r.decode_aggregate_tps},
                               {"stream_decode_tokens_per_second", r.stream_decode_tps},
                               {"time_to_first_token_ms", r.ttft_ms},
                               {"passes_per_token", r.passes_per_token},
                               {"cpu_ms_per_token", r.cpu_ms_per_token}};
        std::cout << line.dump() << "\n";
      } else {
        std::printf("| %7d | %8.2f | %13.2f | %14.2f | %10.2f | %8.1f | %12.3f | %10.2f |\n",
                    r.streams, r.seconds, r.aggregate_tps, r.decode_aggregate_tps,
                    r.stream_decode_tps, r.ttft_ms, r.passes_per_token, r.cpu_ms_per_token);
      }
    }
  }
}

void setup_bench_batch(CLI::App& root) {
  auto o = std::make_shared<BenchBatchOptions>();
  auto* cmd = root.add_subcommand(
      "bench-batch", "Aggregate decode tok/s of N concurrent streams (continuous batching)");
  cmd->add_option("model", o->model, "GGUF model file")->required();
  cmd->add_option("--parallel", o->parallel, "Comma-separated stream counts")
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", o->n_gen, "Tokens generated per stream")->capture_default_str();
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens per stream")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = physical cores)");
  cmd->add_option("-r,--repetitions", o->reps, "Repetitions of the whole list")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object per level, one per line");
  cmd->add_flag("--round-robin", o->round_robin,
                "Pull every stream from one thread in turn instead of one thread per stream");
  cmd->add_flag("--packed-weights", o->packed_weights,
                "Load with the native option packed_weights (panel-form weights for many streams)");
  cmd->callback([o] { run_bench_batch(*o); });
}

const CommandRegistration kRegister{61, setup_bench_batch};

}  // namespace
}  // namespace inference::cli
