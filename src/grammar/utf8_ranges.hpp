// grammar/utf8_ranges.hpp — a range of code points as the byte-range sequences of its UTF-8
// encodings (the classic split used by byte-level regex engines), so that a character class
// becomes a small alternation over bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace inference::grammar {

using ByteRange = std::pair<uint8_t, uint8_t>;
/// One alternative: the i-th byte lies in the i-th range.
using ByteRangeSeq = std::vector<ByteRange>;

/// The sequences whose union is exactly the UTF-8 encodings of [lo, hi] (surrogates
/// D800–DFFF excluded, hi clamped to 10FFFF). Empty for an empty range.
std::vector<ByteRangeSeq> utf8_sequences(uint32_t lo, uint32_t hi);

/// Appends the UTF-8 encoding of `cp` (must be <= 10FFFF).
void append_utf8(std::vector<uint8_t>& out, uint32_t cp);

}  // namespace inference::grammar
