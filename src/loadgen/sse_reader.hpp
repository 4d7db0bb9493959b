// Incremental parser of a server-sent-event stream (text/event-stream), as OpenAI-compatible
// servers stream completions: bytes arrive in arbitrary pieces; each complete event's `data:`
// payload is handed on once its terminating blank line has arrived.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace inference::loadgen {

class SseReader {
 public:
  /// Called with the data of each complete event (its `data:` lines joined by '\n'); events
  /// without data (comments, bare `event:` lines) are skipped. Return false to stop reading.
  using OnData = std::function<bool(std::string_view data)>;

  /// `max_event_bytes` bounds the memory one event may take: a server that never ends an event
  /// is an error, not an unbounded buffer.
  explicit SseReader(OnData on_data, size_t max_event_bytes = 1 << 20);

  /// Feeds the next bytes. Returns false when the callback asked to stop or the stream is bad
  /// (see error()); later calls then do nothing and return false.
  bool feed(std::string_view bytes);

  /// Why feed() returned false because of the stream ("" if it did not, or the callback stopped).
  const std::string& error() const { return error_; }

 private:
  bool dispatch_line(std::string_view line);

  OnData on_data_;
  size_t max_event_bytes_;
  std::string line_;  // the current, incomplete line
  std::string data_;  // data of the current event so far
  bool has_data_ = false;
  bool stopped_ = false;
  bool last_was_cr_ = false;
  std::string error_;
};

}  // namespace inference::loadgen
