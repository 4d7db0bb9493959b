#include "grammar/gbnf_text.hpp"

#include <cstdio>

namespace inference::grammar {
namespace {

std::string escape_codepoint(uint32_t cp) {
  char buf[16];
  if (cp < 0x100) {
    std::snprintf(buf, sizeof buf, "\\x%02X", cp);
  } else if (cp < 0x10000) {
    std::snprintf(buf, sizeof buf, "\\u%04X", cp);
  } else {
    std::snprintf(buf, sizeof buf, "\\U%08X", cp);
  }
  return buf;
}

}  // namespace

std::string gbnf_literal(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      out += escape_codepoint(c);
    } else {
      out += ch;  // UTF-8 bytes of the source pass through as they are
    }
  }
  return out + "\"";
}

std::string gbnf_class(const std::vector<CodepointRange>& ranges) {
  if (ranges.empty()) return "";
  std::string out = "[";
  for (auto [lo, hi] : ranges) {
    out += escape_codepoint(lo);
    if (hi != lo) out += "-" + escape_codepoint(hi);
  }
  return out + "]";
}

}  // namespace inference::grammar
