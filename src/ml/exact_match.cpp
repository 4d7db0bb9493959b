#include "ml/exact_match.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace inference::ml {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

// A number starting at text[i] (a digit, or '.'/'-' followed by a digit): optional '-', digits
// with commas, optional '.digits'. Returns its value and moves i past it.
double read_number(std::string_view text, size_t& i) {
  std::string digits;
  if (text[i] == '-') {
    digits.push_back('-');
    ++i;
  }
  while (i < text.size() && (is_digit(text[i]) || (text[i] == ',' && !digits.empty() &&
                                                   i + 1 < text.size() && is_digit(text[i + 1]))))
    if (text[i++] != ',') digits.push_back(text[i - 1]);
  if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) {
    digits.push_back('.');
    ++i;
    while (i < text.size() && is_digit(text[i])) digits.push_back(text[i++]);
  }
  double value = 0.0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

bool number_starts(std::string_view text, size_t i) {
  const char c = text[i];
  if (is_digit(c)) return true;
  const bool next_digit = i + 1 < text.size() && is_digit(text[i + 1]);
  if (c == '.' && next_digit) return i == 0 || !is_digit(text[i - 1]);
  if (c == '-') {
    // A minus sign, not a hyphen or subtraction inside "5-3" or "A-1".
    if (i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1]))) return false;
    if (next_digit) return true;
    return i + 2 < text.size() && text[i + 1] == '.' && is_digit(text[i + 2]);
  }
  return false;
}

// First (or last) number in text.
std::optional<double> scan(std::string_view text, bool last) {
  std::optional<double> found;
  size_t i = 0;
  while (i < text.size()) {
    if (number_starts(text, i)) {
      const double v = read_number(text, i);
      found = v;
      if (!last) return found;
    } else {
      ++i;
    }
  }
  return found;
}

bool starts_with_error(std::string_view s) {
  if (s.size() < 5) return false;
  for (size_t i = 0; i < 5; ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != "error"[i]) return false;
  return true;
}

}  // namespace

std::optional<double> extract_final_number(std::string_view text) {
  const size_t marker = text.rfind("####");
  if (marker != std::string_view::npos) {
    if (auto v = scan(text.substr(marker + 4), /*last=*/false)) return v;
  }
  return scan(text, /*last=*/true);
}

ExactResult exact_match(std::string_view response, std::string_view expected) {
  ExactResult r;
  const std::string_view reply = trim(response);
  if (reply.empty() || starts_with_error(reply)) return r;
  r.extracted = extract_final_number(reply);
  const std::string_view want = trim(expected);
  if (reply == want) {
    r.correct = true;
    return r;
  }
  const auto want_value = extract_final_number(want);
  if (r.extracted && want_value && std::fabs(*r.extracted - *want_value) <= 0.01 + 1e-12)
    r.correct = true;
  return r;
}

nlohmann::json to_json(const ExactResult& r, std::string_view expected) {
  nlohmann::json j = {{"correct", r.correct}, {"expected", std::string(expected)}};
  j["extracted"] = r.extracted ? nlohmann::json(*r.extracted) : nlohmann::json(nullptr);
  return j;
}

}  // namespace inference::ml
