// Helpers for the MCP tests: a thread-safe recorder of what a session sends, and frames.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mcp/session.hpp"

namespace inference::mcp::test {

using json = nlohmann::json;

/// Collects every message a session writes; waits (bounded, so a bug fails instead of hanging)
/// for the ones a test expects.
class Recorder {
 public:
  Outbound out() {
    return [this](const json& m) {
      if (m.is_null()) {  // a request answered with silence (cancelled by the client)
        ++silent;
        return;
      }
      std::function<void(const json&)> hook;
      {
        std::lock_guard lock(mutex_);
        messages_.push_back(m);
        hook = hook_;
      }
      cv_.notify_all();
      if (hook) hook(m);
    };
  }
  /// Called (outside the lock) for every message, on the thread that sent it.
  void on_message(std::function<void(const json&)> hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
  }
  /// The reply to request `id` (waits up to 20 s; null json if none came).
  json reply(const json& id) {
    json found;
    wait([&](const std::vector<json>& all) {
      for (const auto& m : all) {
        if (m.is_object() && m.contains("id") && m["id"] == id &&
            (m.contains("result") || m.contains("error"))) {
          found = m;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  json last() {
    std::lock_guard lock(mutex_);
    return messages_.empty() ? json() : messages_.back();
  }
  std::vector<json> all() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    messages_.clear();
  }
  bool wait(const std::function<bool(const std::vector<json>&)>& done) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(messages_); });
  }

  std::atomic<int> silent{0};

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<json> messages_;
  std::function<void(const json&)> hook_;
};

inline std::string request(const json& id, const std::string& method, json params = nullptr) {
  json m{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) m["params"] = std::move(params);
  return m.dump();
}

inline std::string notification(const std::string& method, json params = nullptr) {
  json m{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) m["params"] = std::move(params);
  return m.dump();
}

inline std::string initialize(const std::string& version = "2025-11-25") {
  return request(0, "initialize",
                 {{"protocolVersion", version},
                  {"capabilities", json::object()},
                  {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
}

}  // namespace inference::mcp::test
