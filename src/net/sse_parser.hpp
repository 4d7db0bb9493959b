// net/sse_parser.hpp — an incremental Server-Sent Events parser (WHATWG HTML "event stream
// interpretation"): fields data/event/id/retry, multi-line data, CR, LF and CRLF line ends
// (also split across feeds), comment lines, a leading UTF-8 BOM. Bytes arrive in arbitrary
// chunks from the socket, so all state lives here between feed() calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "inference/error.hpp"

namespace inference::net {

struct SseEvent {
  std::string type = "message";  ///< The `event:` field ("message" when absent).
  std::string data;              ///< `data:` lines joined with "\n".
  std::string id;                ///< The last event id seen so far (spec semantics).
};

class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;

  /// `max_event_bytes` bounds one event (line + data) so a hostile server cannot make us
  /// allocate without limit.
  explicit SseParser(size_t max_event_bytes = 16u << 20) : max_event_bytes_(max_event_bytes) {}

  /// Consumes `bytes`, calling `on_event` for every event completed by a blank line. Returns an
  /// error (invalid_argument) once an event exceeds the limit; the parser then stays failed.
  Status feed(std::string_view bytes, const Callback& on_event);

  /// The last `retry:` value in milliseconds, if any.
  std::optional<int64_t> retry_ms() const { return retry_ms_; }
  /// Drops a partial event (the spec discards an unterminated one at end of stream).
  void reset();

 private:
  void process_line(std::string_view line, const Callback& on_event);
  void dispatch(const Callback& on_event);

  size_t max_event_bytes_;
  std::string line_;
  std::string data_;
  std::string type_;
  std::string last_id_;
  std::optional<int64_t> retry_ms_;
  bool has_data_ = false;
  bool after_cr_ = false;  // the previous chunk ended in CR: a following LF belongs to it
  bool started_ = false;   // the BOM check is done
  size_t bom_seen_ = 0;    // bytes of a BOM prefix seen so far
  Status failed_;
};

}  // namespace inference::net
