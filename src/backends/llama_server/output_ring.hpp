// backends/llama_server/output_ring.hpp — the last lines a child process printed, bounded in
// lines and bytes per line, so a chatty server cannot grow our memory while its final words
// (why it failed) stay available for error messages.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace inference::llama_server {

class OutputRing {
 public:
  explicit OutputRing(size_t max_lines = 40, size_t max_line_bytes = 400)
      : max_lines_(max_lines), max_line_bytes_(max_line_bytes) {}

  /// Appends raw output; complete lines enter the ring. Thread-safe.
  void append(std::string_view bytes);
  /// The last `n` lines (a pending partial line included), joined with "\n". Thread-safe.
  std::string tail(size_t n) const;

 private:
  void push_line_locked(std::string line);

  size_t max_lines_;
  size_t max_line_bytes_;
  mutable std::mutex mutex_;
  std::deque<std::string> lines_;
  std::string partial_;
};

}  // namespace inference::llama_server
