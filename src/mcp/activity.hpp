// What the server is doing, for ml_status: calls in flight (across every session) and the
// speeds of the most recent generations, taken from each stream's own metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "inference/types.hpp"

namespace inference::mcp {

class Activity {
 public:
  /// Registers a call in flight; returns the handle end_call() takes.
  uint64_t begin_call(const std::string& tool);
  void end_call(uint64_t handle);

  /// Records one finished generation (keeps the most recent kRecent).
  void record_generation(const std::string& tool, const std::string& model,
                         const std::string& backend, const GenerateMetrics& metrics);

  /// {in_flight:[{tool, running_ms}], recent:[{tool, model, backend, prompt_tokens,
  /// completion_tokens, prefill_tokens_per_second, decode_tokens_per_second, finish_reason}]}
  nlohmann::json snapshot() const;

  static constexpr std::size_t kRecent = 16;

 private:
  struct Call {
    std::string tool;
    std::chrono::steady_clock::time_point started;
  };
  mutable std::mutex mutex_;
  uint64_t next_ = 1;
  std::map<uint64_t, Call> calls_;
  std::deque<nlohmann::json> recent_;
};

}  // namespace inference::mcp
