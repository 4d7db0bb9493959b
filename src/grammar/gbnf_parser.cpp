#include "grammar/gbnf_parser.hpp"

#include <string>
#include <vector>

#include "grammar/grammar_builder.hpp"
#include "grammar/utf8_ranges.hpp"
#include "inference/error.hpp"

namespace inference::grammar {
namespace {

constexpr int kMaxNesting = 200;  // parentheses: bounds the parser's recursion

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  Grammar parse() {
    skip_space(true);
    while (pos_ < src_.size()) {
      parse_rule();
      skip_space(true);
    }
    try {
      return builder_.finish("root");
    } catch (const Error& e) {
      throw;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
  [[noreturn]] void fail_at(size_t at, const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw Error(ErrorCode::invalid_argument, "grammar: line " + std::to_string(line) + ", column " +
                                                 std::to_string(col) + ": " + what);
  }

  bool at_end() const { return pos_ >= src_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }

  void skip_space(bool newline_ok) {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t') {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else if (newline_ok && (c == '\n' || c == '\r')) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (!at_end() && is_word_char(peek())) ++pos_;
    if (pos_ == start) fail("expected a rule name");
    return std::string(src_.substr(start, pos_ - start));
  }

  void parse_rule() {
    const size_t start = pos_;
    const std::string name = parse_name();
    skip_space(false);
    if (src_.substr(pos_, 3) != "::=") fail("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    skip_space(true);
    const int32_t id = builder_.rule(name);
    if (!builder_.define(id)) fail_at(start, "rule '" + name + "' is defined twice");
    parse_alternatives(id, name, 0);
    skip_space(false);
    if (!at_end()) {
      if (peek() == '\r') ++pos_;
      if (peek() != '\n') fail(std::string("unexpected '") + peek() + "'");
      ++pos_;
    }
  }

  void parse_alternatives(int32_t rule, const std::string& name, int depth) {
    builder_.add_alternative(rule, parse_sequence(name, depth));
    while (peek() == '|') {
      ++pos_;
      skip_space(true);
      builder_.add_alternative(rule, parse_sequence(name, depth));
    }
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const int h = hex_value(peek());
      if (h < 0) fail("expected " + std::to_string(digits) + " hex digits");
      v = v * 16 + static_cast<uint32_t>(h);
      ++pos_;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) fail("escape is not a Unicode scalar value");
    return v;
  }

  // One UTF-8 character of the source (not an escape).
  uint32_t parse_utf8() {
    const auto b0 = static_cast<unsigned char>(peek());
    int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
    if (n == 0) fail("invalid UTF-8");
    uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int i = 1; i < n; ++i) {
      const auto b = static_cast<unsigned char>(peek(static_cast<size_t>(i)));
      if ((b & 0xC0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3F);
    }
    pos_ += static_cast<size_t>(n);
    return cp;
  }

  // A character inside a literal or a class, escapes resolved.
  uint32_t parse_char() {
    if (at_end()) fail("unexpected end of grammar");
    if (peek() != '\\') return parse_utf8();
    ++pos_;
    const char e = peek();
    ++pos_;
    switch (e) {
      case 'x':
        return parse_hex(2);
      case 'u':
        return parse_hex(4);
      case 'U':
        return parse_hex(8);
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '\\':
      case '"':
      case '[':
      case ']':
      case '-':
      case '^':
      case '/':
      case '\'':
        return static_cast<unsigned char>(e);
      default:
        --pos_;
        fail(std::string("unknown escape '\\") + (e ? std::string(1, e) : "") + "'");
    }
  }

  Sequence parse_sequence(const std::string& name, int depth) {
    Sequence seq;
    size_t last_item = std::string::npos;
    while (!at_end()) {
      const char c = peek();
      const size_t item_start = seq.size();
      if (c == '"') {
        ++pos_;
        std::vector<uint8_t> bytes;
        while (peek() != '"') {
          if (at_end() || peek() == '\n') fail("unterminated string literal");
          append_utf8(bytes, parse_char());
        }
        ++pos_;
        builder_.append_literal(seq, std::string(bytes.begin(), bytes.end()));
      } else if (c == '[') {
        ++pos_;
        bool negated = false;
        if (peek() == '^') {
          negated = true;
          ++pos_;
        }
        std::vector<CodepointRange> ranges;
        while (peek() != ']') {
          if (at_end() || peek() == '\n') fail("unterminated character class");
          const uint32_t lo = parse_char();
          uint32_t hi = lo;
          if (peek() == '-' && peek(1) != ']' && peek(1) != '\0' && peek(1) != '\n') {
            ++pos_;
            hi = parse_char();
            if (hi < lo) fail("character range is reversed");
          }
          ranges.emplace_back(lo, hi);
        }
        ++pos_;
        builder_.append_class(seq, std::move(ranges), negated);
      } else if (c == '.') {
        ++pos_;
        builder_.append_class(seq, {}, true);
      } else if (is_word_char(c)) {
        const size_t start = pos_;
        const std::string ref = parse_name();
        // A name followed by ::= starts the next rule: this one has ended.
        size_t look = pos_;
        while (look < src_.size() && (src_[look] == ' ' || src_[look] == '\t')) ++look;
        if (src_.substr(look, 3) == "::=") {
          pos_ = start;
          fail("missing newline before rule '" + ref + "'");
        }
        seq.push_back({ElemKind::ref, builder_.rule(ref)});
      } else if (c == '(') {
        if (depth >= kMaxNesting) fail("parentheses nested too deeply");
        ++pos_;
        skip_space(true);
        const int32_t sub = builder_.synthesize(name);
        parse_alternatives(sub, name, depth + 1);
        skip_space(true);
        if (peek() != ')') fail("expected ')'");
        ++pos_;
        seq.push_back({ElemKind::ref, sub});
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (last_item == std::string::npos) fail(std::string("'") + c + "' must follow an item");
        ++pos_;
        int min = 0, max = -1;
        if (c == '+') min = 1;
        if (c == '?') max = 1;
        if (c == '{') {
          skip_space(false);
          min = parse_int();
          skip_space(false);
          max = min;
          if (peek() == ',') {
            ++pos_;
            skip_space(false);
            max = peek() == '}' ? -1 : parse_int();
            skip_space(false);
          }
          if (peek() != '}') fail("expected '}'");
          ++pos_;
        }
        try {
          builder_.repeat(seq, last_item, min, max, name);
        } catch (const Error& e) {
          fail(std::string(e.what()).substr(9));  // drop the "grammar: " prefix
        }
        skip_space(depth > 0);
        last_item = std::string::npos;  // x** is not meaningful: ask for a group
        continue;
      } else if (c == '<') {
        fail("token references (<...>) are not supported");
      } else {
        break;
      }
      last_item = item_start;
      skip_space(depth > 0);
    }
    return seq;
  }

  int parse_int() {
    const size_t start = pos_;
    long v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepetition)
        fail("repetition count too large (max " + std::to_string(kMaxRepetition) + ")");
      ++pos_;
    }
    if (pos_ == start) fail("expected a number");
    return static_cast<int>(v);
  }

  std::string_view src_;
  size_t pos_ = 0;
  GrammarBuilder builder_;
};

}  // namespace

Grammar parse_gbnf(std::string_view source) {
  return Parser(source).parse();
}

}  // namespace inference::grammar
