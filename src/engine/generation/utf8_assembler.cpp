#include "engine/generation/utf8_assembler.hpp"

#include <utility>

namespace inference::generation {

size_t incomplete_utf8_tail(std::string_view text) {
  // Look back over at most 3 continuation bytes for the lead byte of the last character.
  const size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto byte = static_cast<unsigned char>(text[n - back]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation byte: keep looking
    size_t need = 0;
    if ((byte & 0xE0) == 0xC0)
      need = 2;
    else if ((byte & 0xF0) == 0xE0)
      need = 3;
    else if ((byte & 0xF8) == 0xF0)
      need = 4;
    else
      return 0;                     // ASCII or invalid lead: nothing to wait for
    return back < need ? back : 0;  // incomplete only if bytes are still missing
  }
  return 0;  // only continuation bytes: invalid, never completes, pass through
}

std::string Utf8Assembler::push(std::string_view bytes) {
  held_.append(bytes);
  const size_t hold = incomplete_utf8_tail(held_);
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string Utf8Assembler::flush() {
  return std::exchange(held_, {});
}

}  // namespace inference::generation
