#include "backends/remote/utf8_joiner.hpp"

namespace inference::remote {
namespace {

// Length of the character a lead byte starts; 1 for ASCII and for stray bytes (passed on).
size_t sequence_length(unsigned char c) {
  if (c >= 0xF0 && c <= 0xF4) return 4;
  if (c >= 0xE0) return c <= 0xEF ? 3 : 1;
  if (c >= 0xC2) return 2;
  return 1;
}

}  // namespace

std::string Utf8Joiner::push(const std::string& piece) {
  std::string all = pending_ + piece;
  pending_.clear();
  // Look back at most 3 bytes for the lead byte of an unfinished character.
  size_t n = all.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(all[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking
    if (sequence_length(c) > back) {
      pending_ = all.substr(n - back);
      all.resize(n - back);
    }
    break;
  }
  return all;
}

std::string Utf8Joiner::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace inference::remote
