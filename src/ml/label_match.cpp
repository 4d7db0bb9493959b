#include "ml/label_match.hpp"

#include <cctype>

namespace inference::ml {
namespace {

std::string normalise(std::string_view token) {
  std::string s;
  for (size_t i = 0; i < token.size(); ++i) {
    // U+2581 (SentencePiece word marker) is E2 96 81.
    if (i + 2 < token.size() && static_cast<unsigned char>(token[i]) == 0xE2 &&
        static_cast<unsigned char>(token[i + 1]) == 0x96 &&
        static_cast<unsigned char>(token[i + 2]) == 0x81) {
      s.push_back(' ');
      i += 2;
      continue;
    }
    s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(token[i]))));
  }
  size_t b = 0, e = s.size();
  auto skip = [](unsigned char c) { return std::isspace(c) || std::ispunct(c); };
  while (b < e && skip(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && skip(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::string match_label(std::string_view token, const std::vector<std::string>& labels) {
  const std::string t = normalise(token);
  if (t.empty()) return "unknown";
  for (const auto& label : labels)
    if (normalise(label) == t) return label;
  if (t.size() < 2) return "unknown";
  const std::string* found = nullptr;
  for (const auto& label : labels) {
    if (normalise(label).starts_with(t)) {
      if (found) return "unknown";  // ambiguous fragment
      found = &label;
    }
  }
  return found ? *found : "unknown";
}

}  // namespace inference::ml
