#include "inference/log.hpp"

#include <atomic>
#include <memory>
#include <mutex>

namespace inference {
namespace {

struct LogSink {
  std::mutex mutex;
  std::shared_ptr<const LogCallback> callback;
  std::atomic<int> level{static_cast<int>(LogLevel::info)};
};

LogSink& sink() {
  static LogSink instance;
  return instance;
}

}  // namespace

void set_log_callback(LogCallback callback) {
  auto& s = sink();
  std::shared_ptr<const LogCallback> next;
  if (callback) next = std::make_shared<const LogCallback>(std::move(callback));
  std::lock_guard lock(s.mutex);
  s.callback = std::move(next);
}

void set_log_level(LogLevel level) {
  sink().level.store(static_cast<int>(level));
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= sink().level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  auto& s = sink();
  std::shared_ptr<const LogCallback> callback;
  {
    // Copy the pointer under the lock, call outside it: a callback may log or reset the sink.
    std::lock_guard lock(s.mutex);
    callback = s.callback;
  }
  if (callback) (*callback)(level, message);
}

}  // namespace inference
