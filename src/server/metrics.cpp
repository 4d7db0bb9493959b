#include "server/metrics.hpp"

#include <cstdio>

namespace inference::server {

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += " ";
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " ";
  out += type;
  out += "\n";
}

void sample(std::string& out, const std::string& name, double value) {
  out += name + " " + number(value) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::lock_guard lock(mutex_);
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

uint64_t Histogram::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void Histogram::render(std::string& out, const std::string& name) const {
  std::lock_guard lock(mutex_);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum " + number(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2.5}) {}

void Metrics::request_done(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

void Metrics::choice_done(const GenerateMetrics& m) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += static_cast<uint64_t>(std::max<int64_t>(0, m.prompt_tokens));
  cached_prompt_tokens_ += static_cast<uint64_t>(std::max<int64_t>(0, m.cached_prompt_tokens));
  generated_tokens_ += static_cast<uint64_t>(std::max<int64_t>(0, m.generated_tokens));
  prefill_seconds_ += static_cast<double>(m.prefill_duration.count()) / 1e9;
  decode_seconds_ += static_cast<double>(m.decode_duration.count()) / 1e9;
  if (m.prefill_tokens_per_second > 0) last_prefill_tps_ = m.prefill_tokens_per_second;
  if (m.decode_tokens_per_second > 0) last_decode_tps_ = m.decode_tokens_per_second;
}

double Metrics::last_prefill_tokens_per_second() const {
  std::lock_guard lock(mutex_);
  return last_prefill_tps_;
}

double Metrics::last_decode_tokens_per_second() const {
  std::lock_guard lock(mutex_);
  return last_decode_tps_;
}

std::string Metrics::render(const LiveGauges& live) const {
  std::string out;
  {
    std::lock_guard lock(mutex_);
    family(out, "infer_requests_total", "counter", "HTTP responses by endpoint and status code.");
    for (const auto& [key, count] : requests_)
      out += "infer_requests_total{endpoint=\"" + key.first + "\",status=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    family(out, "infer_prompt_tokens_total", "counter", "Prompt tokens of finished generations.");
    sample(out, "infer_prompt_tokens_total", static_cast<double>(prompt_tokens_));
    family(out, "infer_cached_prompt_tokens_total", "counter",
           "Prompt tokens served from a cached prefix instead of being recomputed.");
    sample(out, "infer_cached_prompt_tokens_total", static_cast<double>(cached_prompt_tokens_));
    family(out, "infer_generated_tokens_total", "counter", "Generated tokens.");
    sample(out, "infer_generated_tokens_total", static_cast<double>(generated_tokens_));
    family(out, "infer_prefill_seconds_total", "counter", "Time spent evaluating prompts.");
    sample(out, "infer_prefill_seconds_total", prefill_seconds_);
    family(out, "infer_decode_seconds_total", "counter", "Time spent generating tokens.");
    sample(out, "infer_decode_seconds_total", decode_seconds_);
    family(out, "infer_prefill_tokens_per_second", "gauge",
           "Prompt evaluation speed of the last finished generation.");
    sample(out, "infer_prefill_tokens_per_second", last_prefill_tps_);
    family(out, "infer_decode_tokens_per_second", "gauge",
           "Generation speed of the last finished generation.");
    sample(out, "infer_decode_tokens_per_second", last_decode_tps_);
  }
  family(out, "infer_requests_rejected_total", "counter",
         "Requests refused with 429 because the wait queue was full.");
  sample(out, "infer_requests_rejected_total", static_cast<double>(rejected_.load()));
  family(out, "infer_requests_in_flight", "gauge", "Requests generating now (holding slots).");
  sample(out, "infer_requests_in_flight", static_cast<double>(in_flight.load()));
  family(out, "infer_queue_depth", "gauge", "Requests waiting for a slot.");
  sample(out, "infer_queue_depth", static_cast<double>(live.queue_depth));
  family(out, "infer_slots_total", "gauge", "Parallel sequence slots.");
  sample(out, "infer_slots_total", static_cast<double>(live.slots_total));
  family(out, "infer_slots_busy", "gauge", "Slots generating now.");
  sample(out, "infer_slots_busy", static_cast<double>(live.slots_busy));
  family(out, "infer_kv_cache_tokens", "gauge",
         "KV cache cells used by running generations (prompt + generated tokens).");
  sample(out, "infer_kv_cache_tokens", static_cast<double>(live.kv_tokens_in_use));
  family(out, "infer_kv_cache_capacity_tokens", "gauge", "KV cache cells (slots x context).");
  sample(out, "infer_kv_cache_capacity_tokens", static_cast<double>(live.kv_tokens_capacity));
  family(out, "infer_kv_cache_usage_ratio", "gauge", "infer_kv_cache_tokens / capacity.");
  sample(out, "infer_kv_cache_usage_ratio",
         live.kv_tokens_capacity > 0 ? static_cast<double>(live.kv_tokens_in_use) /
                                           static_cast<double>(live.kv_tokens_capacity)
                                     : 0.0);
  family(out, "infer_model_memory_bytes", "gauge", "Bytes the model holds (weights, cache).");
  sample(out, "infer_model_memory_bytes", static_cast<double>(live.model_memory_bytes));
  family(out, "infer_time_to_first_token_seconds", "histogram",
         "From request arrival (queueing included) to the first generated token.");
  ttft_.render(out, "infer_time_to_first_token_seconds");
  family(out, "infer_inter_token_latency_seconds", "histogram",
         "Between consecutive tokens of one stream.");
  itl_.render(out, "infer_inter_token_latency_seconds");
  return out;
}

}  // namespace inference::server
