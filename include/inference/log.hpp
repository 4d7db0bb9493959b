// inference/log.hpp — the library never prints; it logs through a callback the application sets.
#pragma once

#include <functional>
#include <string_view>

namespace inference {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };

using LogCallback = std::function<void(LogLevel, std::string_view)>;

/// Installs the process-wide log sink (nullptr: discard). Thread-safe; the callback may be
/// called from any thread and must be thread-safe itself.
void set_log_callback(LogCallback callback);

/// Messages below this level are not formatted or delivered (default: info).
void set_log_level(LogLevel level);

/// Sends one message to the sink, if any, at or above the level.
void log(LogLevel level, std::string_view message);
bool log_enabled(LogLevel level);

}  // namespace inference
