// server/metrics.hpp — the server's counters, gauges and latency histograms, and their
// Prometheus text rendering (GET /metrics). Thread-safe; recording is a short lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "inference/types.hpp"

namespace inference::server {

/// A cumulative Prometheus histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  /// Appends `name_bucket{le=…}`, `name_sum` and `name_count` lines.
  void render(std::string& out, const std::string& name) const;
  uint64_t count() const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

/// Figures read from the live server when /metrics is rendered.
struct LiveGauges {
  int64_t queue_depth = 0;
  int64_t slots_total = 0;
  int64_t slots_busy = 0;
  int64_t kv_tokens_in_use = 0;    ///< prompt + generated tokens of running choices
  int64_t kv_tokens_capacity = 0;  ///< slots x context length
  uint64_t model_memory_bytes = 0;
};

class Metrics {
 public:
  Metrics();

  /// One HTTP response written (`endpoint` is the route, "other" for unknown paths).
  void request_done(const std::string& endpoint, int status);
  /// A generation (one choice) ended: token counts and its speeds.
  void choice_done(const GenerateMetrics& m);
  void first_token(double seconds) { ttft_.observe(seconds); }
  void inter_token(double seconds) { itl_.observe(seconds); }
  void rejected_queue_full() { ++rejected_; }
  /// Requests holding slots now.
  std::atomic<int64_t> in_flight{0};

  double last_prefill_tokens_per_second() const;
  double last_decode_tokens_per_second() const;

  std::string render(const LiveGauges& live) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0;
  uint64_t cached_prompt_tokens_ = 0;
  uint64_t generated_tokens_ = 0;
  double prefill_seconds_ = 0.0;
  double decode_seconds_ = 0.0;
  double last_prefill_tps_ = 0.0;
  double last_decode_tps_ = 0.0;
  std::atomic<uint64_t> rejected_{0};
  Histogram ttft_;
  Histogram itl_;
};

}  // namespace inference::server
