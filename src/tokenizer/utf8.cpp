#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Length of the strictly valid sequence starting at `i`, or 0 if it is invalid or truncated.
// `prefix` receives how many bytes (>= 1 when invalid) form the longest valid prefix, which is
// the maximal subpart that a lossy decoder replaces by one U+FFFD.
size_t valid_sequence(std::string_view s, size_t i, size_t* prefix = nullptr) noexcept {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    if (prefix) *prefix = 1;
    return 0;
  }
  size_t k = 1;
  for (; k <= need; ++k) {
    if (i + k >= s.size()) break;
    const unsigned char x = b(i + k);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (x < l || x > h) break;
  }
  if (k == need + 1) return need + 1;
  if (prefix) *prefix = k;
  return 0;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = valid_sequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

uint32_t decode_utf8_at(std::string_view text, size_t& pos) noexcept {
  const auto c = static_cast<unsigned char>(text[pos]);
  auto cont = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(text[pos + k]) & 0x3F);
  };
  uint32_t cp;
  if (c < 0x80) {
    cp = c;
    pos += 1;
  } else if (c < 0xE0) {
    cp = ((c & 0x1Fu) << 6) | cont(1);
    pos += 2;
  } else if (c < 0xF0) {
    cp = ((c & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
    pos += 3;
  } else {
    cp = ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    pos += 4;
  }
  return cp;
}

std::string sanitize_utf8_lenient(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  auto is_cont = [&](size_t k) { return k < text.size() && (b(k) & 0xC0) == 0x80; };
  while (i < text.size()) {
    const unsigned char c = b(i);
    uint32_t cp = 0xFFFD;
    size_t len = 1;
    // The same acceptance rules as llama.cpp's unicode_cpt_from_utf8: only the lead byte's
    // pattern and the continuation bytes are checked (overlongs decode to their value).
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0x40) == 0) {
      // stray continuation byte
    } else if ((c & 0x20) == 0) {
      if (is_cont(i + 1)) cp = ((c & 0x1Fu) << 6) | (b(i + 1) & 0x3Fu), len = 2;
    } else if ((c & 0x10) == 0) {
      if (is_cont(i + 1) && is_cont(i + 2))
        cp = ((c & 0x0Fu) << 12) | ((b(i + 1) & 0x3Fu) << 6) | (b(i + 2) & 0x3Fu), len = 3;
    } else if ((c & 0x08) == 0) {
      if (is_cont(i + 1) && is_cont(i + 2) && is_cont(i + 3))
        cp = ((c & 0x07u) << 18) | ((b(i + 1) & 0x3Fu) << 12) | ((b(i + 2) & 0x3Fu) << 6) |
             (b(i + 3) & 0x3Fu),
        len = 4;
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
    append_utf8(out, cp);
    i += len;
  }
  return out;
}

std::string lossy_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    size_t prefix = 1;
    const size_t n = valid_sequence(bytes, i, &prefix);
    if (n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += prefix;
    }
  }
  return out;
}

size_t incomplete_utf8_tail(std::string_view bytes) noexcept {
  // A sequence is at most 4 bytes: look for a lead byte among the last 3.
  const size_t n = bytes.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const size_t i = n - back;
    const auto c = static_cast<unsigned char>(bytes[i]);
    if ((c & 0xC0) == 0x80) continue;    // continuation: keep looking for the lead
    if (c < 0xC2 || c > 0xF4) return 0;  // ASCII or a byte that never starts a sequence
    size_t prefix = 0;
    if (valid_sequence(bytes, i, &prefix) != 0) return 0;  // complete
    // Incomplete only if every byte present is a valid prefix and the text simply ended.
    return prefix == back ? back : 0;
  }
  return 0;
}

}  // namespace inference::tokenizer
