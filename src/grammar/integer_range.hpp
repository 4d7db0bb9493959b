// grammar/integer_range.hpp — GBNF for the decimal integers in a range (JSON Schema
// `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum` on integers).
//
// Digit by digit, as a number range is written as a regex: [lo, hi] splits by length, and each
// fixed-length range into a shared prefix, a middle of free digits and two edges. The result
// accepts exactly the canonical JSON spellings (no leading zeros, no "-0") of the integers in
// the range; like every schema integer it has at most 16 digits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace inference::grammar {

/// The largest magnitude a schema integer is generated with (16 digits).
inline constexpr int64_t kMaxSchemaInteger = 9'999'999'999'999'999;

/// A GBNF expression (in parentheses) matching the integers in [lo, hi]; a missing bound is
/// ±kMaxSchemaInteger, bounds beyond it are clamped. Requires lo <= hi after clamping.
std::string integer_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi);

}  // namespace inference::grammar
