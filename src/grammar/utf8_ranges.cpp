#include "grammar/utf8_ranges.hpp"

namespace inference::grammar {
namespace {

int encoded_length(uint32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

std::vector<uint8_t> encode(uint32_t cp) {
  std::vector<uint8_t> out;
  append_utf8(out, cp);
  return out;
}

// [lo, hi] have the same encoded length. Split until every continuation position spans
// either one value or the full 80–BF range, then the range pairs of the two ends describe it.
void split(uint32_t lo, uint32_t hi, std::vector<ByteRangeSeq>& out) {
  const int n = encoded_length(lo);
  for (int i = 1; i < n; ++i) {
    const uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        split(lo, lo | m, out);
        split((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        split(lo, (hi & ~m) - 1, out);
        split(hi & ~m, hi, out);
        return;
      }
    }
  }
  const auto a = encode(lo);
  const auto b = encode(hi);
  ByteRangeSeq seq;
  for (size_t i = 0; i < a.size(); ++i) seq.emplace_back(a[i], b[i]);
  out.push_back(std::move(seq));
}

}  // namespace

void append_utf8(std::vector<uint8_t>& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<uint8_t>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<uint8_t>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<uint8_t>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<uint8_t>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<uint8_t>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<uint8_t>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<uint8_t>(0x80 | (cp & 0x3F)));
  }
}

std::vector<ByteRangeSeq> utf8_sequences(uint32_t lo, uint32_t hi) {
  std::vector<ByteRangeSeq> out;
  if (hi > 0x10FFFF) hi = 0x10FFFF;
  if (lo > hi) return out;
  // Remove the surrogates, then cut at the encoded-length boundaries.
  if (lo <= 0xDFFF && hi >= 0xD800) {
    if (lo < 0xD800) {
      auto a = utf8_sequences(lo, 0xD7FF);
      out.insert(out.end(), a.begin(), a.end());
    }
    if (hi > 0xDFFF) {
      auto b = utf8_sequences(0xE000, hi);
      out.insert(out.end(), b.begin(), b.end());
    }
    return out;
  }
  const uint32_t bounds[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  uint32_t start = lo;
  for (uint32_t bound : bounds) {
    if (start > hi) break;
    if (start > bound) continue;
    const uint32_t end = hi < bound ? hi : bound;
    split(start, end, out);
    start = end + 1;
  }
  return out;
}

}  // namespace inference::grammar
