#include "grammar/integer_range.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace inference::grammar {

namespace {

std::string digit_class(char from, char to) {
  if (from == to) return std::string("\"") + from + "\"";
  if (from == '0' && to == '9') return "[0-9]";
  return std::string("[") + from + "-" + to + "]";
}

std::string free_digits(size_t n) {
  if (n == 0) return "";
  return n == 1 ? " [0-9]" : " [0-9]{" + std::to_string(n) + "}";
}

// The strings of a's length between a and b (a <= b, equal length, digit by digit).
std::string same_length(std::string_view a, std::string_view b) {
  if (a.empty()) return "\"\"";
  if (a.size() == 1) return digit_class(a[0], b[0]);
  const size_t rest = a.size() - 1;
  const auto tail_a = a.substr(1), tail_b = b.substr(1);
  if (a[0] == b[0]) return digit_class(a[0], a[0]) + " (" + same_length(tail_a, tail_b) + ")";
  const bool a_low = tail_a.find_first_not_of('0') == std::string_view::npos;
  const bool b_high = tail_b.find_first_not_of('9') == std::string_view::npos;
  std::vector<std::string> alternatives;
  char lo = a[0], hi = b[0];
  if (!a_low) {
    alternatives.push_back(digit_class(a[0], a[0]) + " (" +
                           same_length(tail_a, std::string(rest, '9')) + ")");
    ++lo;
  }
  if (!b_high) --hi;
  if (lo <= hi) alternatives.push_back(digit_class(lo, hi) + free_digits(rest));
  if (!b_high)
    alternatives.push_back(digit_class(b[0], b[0]) + " (" +
                           same_length(std::string(rest, '0'), tail_b) + ")");
  std::string out;
  for (const auto& alt : alternatives) out += (out.empty() ? "" : " | ") + alt;
  return out;
}

// Non-negative integers in [lo, hi], canonical (no leading zeros).
std::string unsigned_range(int64_t lo, int64_t hi) {
  std::vector<std::string> alternatives;
  const std::string los = std::to_string(lo), his = std::to_string(hi);
  for (size_t len = los.size(); len <= his.size(); ++len) {
    const std::string first = len == los.size() ? los : "1" + std::string(len - 1, '0');
    const std::string last = len == his.size() ? his : std::string(len, '9');
    alternatives.push_back("(" + same_length(first, last) + ")");
  }
  std::string out;
  for (const auto& alt : alternatives) out += (out.empty() ? "" : " | ") + alt;
  return out;
}

}  // namespace

std::string integer_range_gbnf(std::optional<int64_t> lo_bound, std::optional<int64_t> hi_bound) {
  const int64_t lo =
      std::clamp(lo_bound.value_or(-kMaxSchemaInteger), -kMaxSchemaInteger, kMaxSchemaInteger);
  const int64_t hi =
      std::clamp(hi_bound.value_or(kMaxSchemaInteger), -kMaxSchemaInteger, kMaxSchemaInteger);
  std::vector<std::string> parts;
  if (lo < 0) parts.push_back("\"-\" (" + unsigned_range(std::max<int64_t>(-hi, 1), -lo) + ")");
  if (hi >= 0) parts.push_back("(" + unsigned_range(std::max<int64_t>(lo, 0), hi) + ")");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " | ") + p;
  return "(" + out + ")";
}

}  // namespace inference::grammar
