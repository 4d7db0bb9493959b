#include "grammar/regex_to_gbnf.hpp"

#include <vector>

#include "grammar/gbnf_text.hpp"
#include "grammar/grammar_builder.hpp"
#include "inference/error.hpp"

namespace inference::grammar {
namespace {

constexpr int kMaxDepth = 100;

using Ranges = std::vector<CodepointRange>;

Ranges digit() {
  return {{'0', '9'}};
}
Ranges word() {
  return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
}
Ranges space() {
  return {{'\t', '\r'}, {' ', ' '}};
}

class RegexParser {
 public:
  RegexParser(std::string_view src, RegexTarget target) : src_(src), target_(target) {}

  std::string parse() {
    if (peek() == '^') ++pos_;
    std::string out = parse_alternation(0);
    if (pos_ < src_.size()) fail("unexpected ')'");
    return "(" + out + ")";
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::invalid_argument, "regex: " + what + " at offset " +
                                                 std::to_string(pos_) + " of '" +
                                                 std::string(src_) + "'");
  }
  [[noreturn]] void unsupported(const std::string& what) const {
    throw Error(ErrorCode::unsupported,
                "regex: " + what + " (in '" + std::string(src_) + "') is not supported");
  }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  bool at_end() const { return pos_ >= src_.size(); }

  // One character class as GBNF, honouring the target (JSON escapes inside strings).
  std::string chars(Ranges ranges, bool negated) {
    ranges = normalize_ranges(std::move(ranges), negated);
    if (target_ == RegexTarget::raw) {
      const std::string cls = gbnf_class(ranges);
      if (cls.empty()) fail("empty character class");
      return cls;
    }
    // Inside a JSON string: raw characters except '"', '\' and controls; those as escapes.
    Ranges raw;
    std::vector<std::string> escapes;
    for (auto [lo, hi] : ranges) {
      for (uint32_t c = lo; c <= hi && c < 0x20; ++c) {
        static const char* names[] = {"u0000", "u0001", "u0002", "u0003", "u0004", "u0005", "u0006",
                                      "u0007", "b",     "t",     "n",     "u000b", "f",     "r",
                                      "u000e", "u000f", "u0010", "u0011", "u0012", "u0013", "u0014",
                                      "u0015", "u0016", "u0017", "u0018", "u0019", "u001a", "u001b",
                                      "u001c", "u001d", "u001e", "u001f"};
        escapes.push_back(std::string("\\") + names[c]);
      }
      if (lo <= '"' && '"' <= hi) escapes.push_back("\\\"");
      if (lo <= '\\' && '\\' <= hi) escapes.push_back("\\\\");
      raw.emplace_back(std::max<uint32_t>(lo, 0x20), hi);
    }
    Ranges cut;
    for (auto [lo, hi] : raw) {
      if (lo > hi) continue;
      for (uint32_t special : {uint32_t{'"'}, uint32_t{'\\'}}) {
        if (lo <= special && special <= hi) {
          if (lo < special) cut.emplace_back(lo, special - 1);
          lo = special + 1;
        }
      }
      if (lo <= hi) cut.emplace_back(lo, hi);
    }
    std::string out;
    const std::string cls = gbnf_class(normalize_ranges(cut, false));
    if (!cls.empty()) out = cls;
    for (const std::string& e : escapes) out += (out.empty() ? "" : " | ") + gbnf_literal(e);
    if (out.empty()) fail("empty character class");
    return "(" + out + ")";
  }

  std::string parse_alternation(int depth) {
    if (depth > kMaxDepth) fail("groups nested too deeply");
    std::string out = parse_sequence(depth);
    while (peek() == '|') {
      ++pos_;
      out += " | " + parse_sequence(depth);
    }
    return out;
  }

  std::string parse_sequence(int depth) {
    std::string out;
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$' && pos_ + 1 == src_.size()) {
        ++pos_;
        break;
      }
      std::string atom = parse_atom(depth);
      atom += parse_quantifier();
      out += (out.empty() ? "" : " ") + atom;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string parse_quantifier() {
    std::string q;
    const char c = peek();
    if (c == '*' || c == '+' || c == '?') {
      ++pos_;
      q = std::string(1, c);
    } else if (c == '{' && (peek(1) >= '0' && peek(1) <= '9')) {
      ++pos_;
      const int min = parse_int();
      int max = min;
      if (peek() == ',') {
        ++pos_;
        max = peek() == '}' ? -1 : parse_int();
      }
      if (peek() != '}') fail("expected '}'");
      ++pos_;
      if (max >= 0 && max < min) fail("quantifier {m,n} with n < m");
      q = "{" + std::to_string(min) +
          (max == min ? "" : "," + (max < 0 ? "" : std::to_string(max))) + "}";
    } else {
      return "";
    }
    if (peek() == '?') ++pos_;  // lazy: the same language
    if (peek() == '+') unsupported("possessive quantifier");
    if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') fail("nothing to repeat");
    return q;
  }

  int parse_int() {
    long v = 0;
    const size_t start = pos_;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepetition) fail("repetition count too large");
      ++pos_;
    }
    if (pos_ == start) fail("expected a number");
    return static_cast<int>(v);
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char c = peek();
      int h = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (h < 0) fail("bad hex escape");
      v = v * 16 + static_cast<uint32_t>(h);
      ++pos_;
    }
    return v;
  }

  uint32_t parse_utf8() {
    const auto b0 = static_cast<unsigned char>(peek());
    int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
    if (n == 0 || pos_ + static_cast<size_t>(n) > src_.size()) fail("invalid UTF-8");
    uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int i = 1; i < n; ++i) {
      const auto b = static_cast<unsigned char>(src_[pos_ + static_cast<size_t>(i)]);
      if ((b & 0xC0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3F);
    }
    pos_ += static_cast<size_t>(n);
    return cp;
  }

  // After a backslash: a class (\d…) into `ranges`+`negated`, or one character.
  // Returns true when it was a class.
  bool parse_escape(Ranges& ranges, bool& negated, uint32_t& ch) {
    if (at_end()) fail("trailing backslash");
    const char e = src_[pos_++];
    negated = false;
    switch (e) {
      case 'd':
        ranges = digit();
        return true;
      case 'w':
        ranges = word();
        return true;
      case 's':
        ranges = space();
        return true;
      case 'D':
        ranges = digit();
        negated = true;
        return true;
      case 'W':
        ranges = word();
        negated = true;
        return true;
      case 'S':
        ranges = space();
        negated = true;
        return true;
      case 'n':
        ch = '\n';
        return false;
      case 'r':
        ch = '\r';
        return false;
      case 't':
        ch = '\t';
        return false;
      case 'f':
        ch = '\f';
        return false;
      case 'v':
        ch = '\v';
        return false;
      case '0':
        ch = 0;
        return false;
      case 'x':
        ch = parse_hex(2);
        return false;
      case 'u':
        if (peek() == '{') unsupported("\\u{…} escape");
        ch = parse_hex(4);
        if (ch >= 0xD800 && ch <= 0xDFFF) unsupported("surrogate escape");
        return false;
      case 'b':
      case 'B':
        unsupported("word boundary \\b");
      default:
        if (e >= '1' && e <= '9') unsupported("backreference");
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
          unsupported(std::string("escape \\") + e);
        ch = static_cast<unsigned char>(e);
        if (ch >= 0x80) fail("escaped non-ASCII byte");
        return false;
    }
  }

  std::string parse_atom(int depth) {
    const char c = peek();
    if (c == '(') {
      ++pos_;
      if (peek() == '?') {
        if (peek(1) == ':') {
          pos_ += 2;
        } else if (peek(1) == '<' && peek(2) != '=' && peek(2) != '!') {
          pos_ += 2;
          while (!at_end() && peek() != '>') ++pos_;
          if (at_end()) fail("unterminated group name");
          ++pos_;
        } else {
          unsupported("lookaround or group flag '(?" + std::string(1, peek(1)) + "'");
        }
      }
      std::string inner = parse_alternation(depth + 1);
      if (peek() != ')') fail("missing ')'");
      ++pos_;
      return "(" + inner + ")";
    }
    if (c == '[') return parse_class();
    if (c == '.') {
      ++pos_;
      return chars({{'\n', '\n'}}, true);
    }
    if (c == '*' || c == '+' || c == '?') fail("nothing to repeat");
    if (c == '^') unsupported("'^' inside the pattern");
    if (c == '$') unsupported("'$' inside the pattern");
    if (c == '\\') {
      ++pos_;
      Ranges r;
      bool neg = false;
      uint32_t ch = 0;
      if (parse_escape(r, neg, ch)) return chars(r, neg);
      return chars({{ch, ch}}, false);
    }
    const uint32_t cp = parse_utf8();
    return chars({{cp, cp}}, false);
  }

  std::string parse_class() {
    ++pos_;  // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    Ranges ranges;
    bool first = true;
    while (at_end() || peek() != ']' || first) {
      if (at_end()) fail("unterminated character class");
      first = false;
      uint32_t lo = 0;
      if (peek() == '\\') {
        ++pos_;
        Ranges r;
        bool neg = false;
        if (parse_escape(r, neg, lo)) {
          r = normalize_ranges(std::move(r), neg);
          ranges.insert(ranges.end(), r.begin(), r.end());
          continue;
        }
      } else if (peek() == '[' && peek(1) == ':') {
        unsupported("POSIX class [:…:]");
      } else {
        lo = parse_utf8();
      }
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < src_.size()) {
        ++pos_;
        if (peek() == '\\') {
          ++pos_;
          Ranges r;
          bool neg = false;
          if (parse_escape(r, neg, hi)) fail("class escape as a range end");
        } else {
          hi = parse_utf8();
        }
        if (hi < lo) fail("reversed range in character class");
      }
      ranges.emplace_back(lo, hi);
    }
    ++pos_;
    return chars(ranges, negated);
  }

  std::string_view src_;
  RegexTarget target_;
  size_t pos_ = 0;
};

}  // namespace

std::string regex_to_gbnf(std::string_view pattern, RegexTarget target) {
  return RegexParser(pattern, target).parse();
}

}  // namespace inference::grammar
