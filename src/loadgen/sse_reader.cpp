#include "loadgen/sse_reader.hpp"

#include <utility>

namespace inference::loadgen {

SseReader::SseReader(OnData on_data, size_t max_event_bytes)
    : on_data_(std::move(on_data)), max_event_bytes_(max_event_bytes) {}

bool SseReader::feed(std::string_view bytes) {
  if (stopped_) return false;
  for (char c : bytes) {
    // Lines end in "\r\n", "\n" or "\r" (the SSE spec allows all three).
    if (c == '\n' && last_was_cr_) {
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      if (!dispatch_line(line_)) {
        stopped_ = true;
        return false;
      }
      line_.clear();
      continue;
    }
    if (line_.size() + data_.size() >= max_event_bytes_) {
      error_ = "server-sent event longer than " + std::to_string(max_event_bytes_) + " bytes";
      stopped_ = true;
      return false;
    }
    line_.push_back(c);
  }
  return true;
}

bool SseReader::dispatch_line(std::string_view line) {
  if (line.empty()) {  // blank line: the event is complete
    if (!has_data_) return true;
    has_data_ = false;
    std::string data = std::move(data_);
    data_.clear();
    return on_data_(data);
  }
  if (line.front() == ':') return true;  // comment (keep-alive)
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  return true;  // event:, id:, retry: and unknown fields do not matter for timing
}

}  // namespace inference::loadgen
