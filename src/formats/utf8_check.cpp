// formats/utf8_check.cpp — strict UTF-8 validation (RFC 3629, table 3-7 of the Unicode
// standard: the second byte's range depends on the first byte, which excludes overlong forms,
// surrogates and code points above U+10FFFF).
#include "formats/utf8_check.hpp"

#include <cstdint>
#include <cstdio>

namespace inference::formats {
namespace {

// Length of the well-formed sequence starting at text[i], or 0 if there is none.
size_t sequence_length(std::string_view text, size_t i) noexcept {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;  // overlong
    if (b0 == 0xed) hi = 0x9f;  // surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;  // overlong
    if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 overlong lead, or F5..FF
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

}  // namespace

std::optional<size_t> first_invalid_utf8(std::string_view text) noexcept {
  for (size_t i = 0; i < text.size();) {
    // ASCII runs are most of every real file: skip them without the table.
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = sequence_length(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string printable_utf8(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    if (chars >= max_chars) {
      out += "...";
      break;
    }
    const size_t n = sequence_length(text, i);
    const auto b = static_cast<uint8_t>(text[i]);
    if (n == 0 || b < 0x20 || b == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", b);
      out += hex;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace inference::formats
