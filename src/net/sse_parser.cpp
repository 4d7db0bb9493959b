#include "net/sse_parser.hpp"

#include <algorithm>

namespace inference::net {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void SseParser::reset() {
  line_.clear();
  data_.clear();
  type_.clear();
  has_data_ = false;
}

Status SseParser::feed(std::string_view bytes, const Callback& on_event) {
  if (!failed_.ok()) return failed_;
  size_t i = 0;
  // A UTF-8 BOM is allowed once at the very start of the stream, possibly split across feeds.
  while (!started_ && i < bytes.size()) {
    if (bytes[i] == kBom[bom_seen_]) {
      ++bom_seen_;
      ++i;
      if (bom_seen_ == kBom.size()) started_ = true;
    } else {
      // Not a BOM after all: the bytes taken so far are ordinary line content.
      line_.append(kBom.substr(0, bom_seen_));
      started_ = true;
    }
  }
  while (i < bytes.size()) {
    char c = bytes[i];
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') {  // the LF of a CRLF pair whose CR ended the line already
        ++i;
        continue;
      }
    }
    // Copy the run of ordinary bytes at once.
    size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = bytes.size();
    if (end > i) {
      if (line_.size() + data_.size() + (end - i) > max_event_bytes_) {
        failed_ = {ErrorCode::invalid_argument,
                   "server-sent event larger than " + std::to_string(max_event_bytes_) + " bytes"};
        return failed_;
      }
      line_.append(bytes.substr(i, end - i));
      i = end;
      continue;
    }
    after_cr_ = c == '\r';
    ++i;
    process_line(line_, on_event);
    line_.clear();
  }
  return {};
}

void SseParser::process_line(std::string_view line, const Callback& on_event) {
  if (line.empty()) {
    dispatch(on_event);
    return;
  }
  if (line.front() == ':') return;  // comment (keep-alive)
  std::string_view field = line;
  std::string_view value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    if (all_digits(value) && value.size() < 16) retry_ms_ = std::stoll(std::string(value));
  }
  // Any other field is ignored, as the spec requires.
}

void SseParser::dispatch(const Callback& on_event) {
  if (!has_data_) {  // an event with no data is not dispatched; its type is forgotten
    type_.clear();
    return;
  }
  SseEvent event;
  event.type = type_.empty() ? "message" : type_;
  event.data = std::move(data_);
  event.data.pop_back();  // the trailing "\n" of the last data line
  event.id = last_id_;
  data_.clear();
  type_.clear();
  has_data_ = false;
  on_event(event);
}

}  // namespace inference::net
