#include "backends/llama_server/output_ring.hpp"

namespace inference::llama_server {

void OutputRing::push_line_locked(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return;
  lines_.push_back(std::move(line));
  while (lines_.size() > max_lines_) lines_.pop_front();
}

void OutputRing::append(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view part = bytes.substr(0, nl);
    // Keep at most max_line_bytes_ of one line; the rest of an overlong line is dropped.
    if (partial_.size() < max_line_bytes_)
      partial_.append(part.substr(0, max_line_bytes_ - partial_.size()));
    if (nl == std::string_view::npos) break;
    push_line_locked(std::move(partial_));
    partial_.clear();
    bytes.remove_prefix(nl + 1);
  }
}

std::string OutputRing::tail(size_t n) const {
  std::lock_guard lock(mutex_);
  std::deque<std::string> lines = lines_;
  if (!partial_.empty()) lines.push_back(partial_);
  size_t start = lines.size() > n ? lines.size() - n : 0;
  std::string out;
  for (size_t i = start; i < lines.size(); ++i) {
    if (!out.empty()) out += "\n";
    out += lines[i];
  }
  return out;
}

}  // namespace inference::llama_server
