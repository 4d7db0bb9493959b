#include "mcp/activity.hpp"

namespace inference::mcp {

uint64_t Activity::begin_call(const std::string& tool) {
  std::lock_guard lock(mutex_);
  uint64_t handle = next_++;
  calls_[handle] = {tool, std::chrono::steady_clock::now()};
  return handle;
}

void Activity::end_call(uint64_t handle) {
  std::lock_guard lock(mutex_);
  calls_.erase(handle);
}

void Activity::record_generation(const std::string& tool, const std::string& model,
                                 const std::string& backend, const GenerateMetrics& metrics) {
  nlohmann::json entry = {{"tool", tool},
                          {"model", model},
                          {"backend", backend},
                          {"prompt_tokens", metrics.prompt_tokens},
                          {"completion_tokens", metrics.generated_tokens},
                          {"prefill_tokens_per_second", metrics.prefill_tokens_per_second},
                          {"decode_tokens_per_second", metrics.decode_tokens_per_second},
                          {"finish_reason", to_string(metrics.finish_reason)}};
  std::lock_guard lock(mutex_);
  recent_.push_front(std::move(entry));
  if (recent_.size() > kRecent) recent_.pop_back();
}

nlohmann::json Activity::snapshot() const {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  nlohmann::json in_flight = nlohmann::json::array();
  for (const auto& [handle, call] : calls_) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - call.started).count();
    in_flight.push_back({{"tool", call.tool}, {"running_ms", ms}});
  }
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& entry : recent_) recent.push_back(entry);
  return {{"in_flight", std::move(in_flight)}, {"recent", std::move(recent)}};
}

}  // namespace inference::mcp
