#include "chat/jinja/lexer.hpp"

#include <cerrno>
#include <cstdlib>

#include "chat/jinja/unicode.hpp"
#include "inference/error.hpp"

namespace inference::chat::jinja {
namespace {

[[noreturn]] void syntax_error(int line, const std::string& what) {
  throw Error(ErrorCode::invalid_argument,
              "template syntax error at line " + std::to_string(line) + ": " + what);
}

bool starts_with(std::string_view s, size_t pos, std::string_view prefix) {
  return s.substr(pos, prefix.size()) == prefix;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

// Length of the Python-whitespace run starting at `pos`.
size_t whitespace_run(std::string_view s, size_t pos) {
  size_t i = pos;
  while (i < s.size()) {
    size_t next = i;
    if (!is_python_space(next_code_point(s, next))) break;
    i = next;
  }
  return i - pos;
}

// Python str.rstrip().
std::string_view rstrip_space(std::string_view s) {
  return strip(s, {}, false, true, true);
}

bool all_space(std::string_view s) {
  return whitespace_run(s, 0) == s.size();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the body of a string literal like Python's "unicode-escape" codec.
std::string decode_string(std::string_view body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    switch (e) {
      case '\n':
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        char32_t cp = 0;
        for (size_t k = 0; k < digits; ++k) {
          int h = i + 1 + k < body.size() ? hex_value(body[i + 1 + k]) : -1;
          if (h < 0) syntax_error(line, "truncated \\" + std::string(1, e) + " escape in string");
          cp = cp * 16 + static_cast<char32_t>(h);
        }
        i += digits;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          syntax_error(line, "escape in string is not a valid code point");
        }
        append_utf8(out, cp);
        break;
      }
      case 'N':
        syntax_error(line, "\\N{...} escapes in strings are not supported");
      default:
        if (e >= '0' && e <= '7') {
          char32_t cp = static_cast<char32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
               ++k) {
            cp = cp * 8 + static_cast<char32_t>(body[++i] - '0');
          }
          append_utf8(out, cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        emit_data(std::string_view(src_).substr(pos_));
        advance_to(src_.size());
        break;
      }
      char kind = src_[tag + 1];  // '{', '%' or '#'
      char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+')
                      ? src_[tag + 2]
                      : '\0';
      std::string_view text = std::string_view(src_).substr(pos_, tag - pos_);
      text = strip_before_tag(text, kind, sign, line_starting);
      emit_data(text);
      advance_to(tag + 2 + (sign ? 1 : 0));
      if (kind == '#') {
        line_starting = lex_comment();
      } else if (kind == '%' && lex_raw()) {
        line_starting = last_match_newline_;
      } else {
        line_starting = lex_tag(kind == '%');
      }
    }
    tokens_.push_back(Token{TokenType::eof, "", 0, 0, line_});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return std::string::npos;
  }

  // `{%-` strips all whitespace before the tag; lstrip_blocks strips the spaces between the
  // line start and a block or comment tag when nothing else is on that line before it.
  std::string_view strip_before_tag(std::string_view text, char kind, char sign,
                                    bool line_starting) const {
    if (sign == '-') return rstrip_space(text);
    if (sign == '+' || kind == '{') return text;
    size_t nl = text.rfind('\n');
    size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if ((l_pos > 0 || line_starting) && l_pos < text.size() && all_space(text.substr(l_pos))) {
      return text.substr(0, l_pos);
    }
    return text;
  }

  void emit_data(std::string_view text) {
    if (text.empty()) return;
    tokens_.push_back(Token{TokenType::data, std::string(text), 0, 0, line_});
  }

  void advance_to(size_t pos) {
    for (size_t i = pos_; i < pos; ++i) line_ += src_[i] == '\n';
    pos_ = pos;
  }

  // Consumes an end marker's trailing whitespace: all of it after `-`, one newline
  // (trim_blocks) after a plain block/comment end. Returns whether the match ended in "\n".
  bool consume_after_end(char sign, bool trim_newline) {
    size_t end = pos_;
    if (sign == '-') {
      end += whitespace_run(src_, end);
    } else if (sign != '+' && trim_newline && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    bool newline = end > 0 && src_[end - 1] == '\n' && end > pos_;
    advance_to(end);
    return newline;
  }

  bool lex_comment() {
    int start_line = line_;
    for (size_t i = pos_; i + 1 < src_.size(); ++i) {
      char sign = src_[i] == '-' || src_[i] == '+' ? src_[i] : '\0';
      size_t close = sign ? i + 1 : i;
      if (starts_with(src_, close, "#}")) {
        advance_to(close + 2);
        return consume_after_end(sign, true);
      }
    }
    syntax_error(start_line, "missing end of comment tag");
  }

  // {% raw %}…{% endraw %}: the body is data, untouched.
  bool lex_raw() {
    size_t p = pos_ + whitespace_run(src_, pos_);
    if (!starts_with(src_, p, "raw")) return false;
    p += 3;
    if (p < src_.size() && is_name_char(src_[p])) return false;
    p += whitespace_run(src_, p);
    char sign = '\0';
    if (starts_with(src_, p, "-%}")) {
      sign = '-';
      p += 3;
    } else if (starts_with(src_, p, "%}")) {
      p += 2;
    } else {
      return false;
    }
    advance_to(p);
    if (sign == '-') advance_to(p + whitespace_run(src_, p));
    int start_line = line_;
    for (size_t i = src_.find("{%", pos_); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t q = i + 2;
      char open_sign = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q] : '\0';
      if (open_sign) ++q;
      q += whitespace_run(src_, q);
      if (!starts_with(src_, q, "endraw")) continue;
      q += 6;
      q += whitespace_run(src_, q);
      char end_sign = '\0';
      if (starts_with(src_, q, "-%}") || starts_with(src_, q, "+%}")) {
        end_sign = src_[q];
        q += 3;
      } else if (starts_with(src_, q, "%}")) {
        q += 2;
      } else {
        continue;
      }
      std::string_view body = std::string_view(src_).substr(pos_, i - pos_);
      body = strip_before_tag(body, '%', open_sign, false);
      emit_data(body);
      advance_to(q);
      last_match_newline_ = consume_after_end(end_sign, true);
      return true;
    }
    syntax_error(start_line, "missing {% endraw %}");
  }

  // Expression tokens up to the closing `%}` / `}}`. Returns whether the end match ended in "\n".
  bool lex_tag(bool block) {
    int start_line = line_;
    tokens_.push_back(
        Token{block ? TokenType::block_begin : TokenType::variable_begin, "", 0, 0, line_});
    std::vector<char> brackets;
    const std::string_view close = block ? "%}" : "}}";
    while (true) {
      if (pos_ >= src_.size()) {
        syntax_error(start_line, std::string("unexpected end of template, expected '") +
                                     std::string(close) + "'");
      }
      if (brackets.empty()) {
        char sign = '\0';
        size_t p = pos_;
        if ((src_[p] == '-' || (block && src_[p] == '+')) && starts_with(src_, p + 1, close)) {
          sign = src_[p];
          ++p;
        }
        if (starts_with(src_, p, close)) {
          tokens_.push_back(
              Token{block ? TokenType::block_end : TokenType::variable_end, "", 0, 0, line_});
          advance_to(p + 2);
          return consume_after_end(sign, block);
        }
      }
      size_t ws = whitespace_run(src_, pos_);
      if (ws) {
        advance_to(pos_ + ws);
        continue;
      }
      char c = src_[pos_];
      if (is_digit(c)) {
        lex_number();
      } else if (is_name_start(c)) {
        size_t end = pos_;
        while (end < src_.size() && is_name_char(src_[end])) ++end;
        tokens_.push_back(Token{TokenType::name, src_.substr(pos_, end - pos_), 0, 0, line_});
        advance_to(end);
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(brackets);
      }
    }
  }

  void lex_number() {
    size_t start = pos_;
    // 0x / 0o / 0b literals.
    if (src_[start] == '0' && start + 1 < src_.size()) {
      char b = static_cast<char>(src_[start + 1] | 0x20);
      int base = b == 'x' ? 16 : b == 'o' ? 8 : b == 'b' ? 2 : 0;
      if (base) {
        std::string text;
        size_t q = start + 2;
        while (q < src_.size()) {
          char ch = src_[q];
          int h = hex_value(ch);
          if (ch == '_') {
            ++q;
            continue;
          }
          if (h < 0 || h >= base) break;
          text += ch;
          ++q;
        }
        if (text.empty()) syntax_error(line_, "malformed integer literal");
        push_integer(text, base, q);
        return;
      }
    }
    // Digits with single underscores between them.
    auto digits = [&](size_t p) {
      size_t q = p;
      while (q < src_.size() &&
             (is_digit(src_[q]) ||
              (src_[q] == '_' && q > p && q + 1 < src_.size() && is_digit(src_[q + 1])))) {
        ++q;
      }
      return q;
    };
    bool after_dot = start > 0 && src_[start - 1] == '.';
    size_t end = digits(start);
    bool is_float = false;
    if (!after_dot) {
      size_t p = end;
      if (p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
        p = digits(p + 1);
        is_float = true;
      }
      if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
        size_t q = p + 1;
        if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
        if (q < src_.size() && is_digit(src_[q])) {
          p = digits(q);
          is_float = true;
        }
      }
      if (is_float) end = p;
    }
    std::string text;
    for (size_t i = start; i < end; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    if (is_float) {
      tokens_.push_back(
          Token{TokenType::floating, text, 0, std::strtod(text.c_str(), nullptr), line_});
      advance_to(end);
      return;
    }
    if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) {
      syntax_error(line_, "leading zeros in an integer literal are not permitted");
    }
    push_integer(text, 10, end);
  }

  void push_integer(const std::string& digits, int base, size_t end) {
    errno = 0;
    long long v = std::strtoll(digits.c_str(), nullptr, base);
    if (errno == ERANGE) {
      throw Error(ErrorCode::unsupported, "template line " + std::to_string(line_) +
                                              ": integer literal does not fit in 64 bits");
    }
    tokens_.push_back(Token{TokenType::integer, digits, v, 0, line_});
    advance_to(end);
  }

  void lex_string(char quote) {
    int start_line = line_;
    size_t i = pos_ + 1;
    while (i < src_.size() && src_[i] != quote) i += src_[i] == '\\' ? 2 : 1;
    if (i >= src_.size()) syntax_error(start_line, "unterminated string literal");
    std::string_view body = std::string_view(src_).substr(pos_ + 1, i - pos_ - 1);
    tokens_.push_back(Token{TokenType::string, decode_string(body, start_line), 0, 0, line_});
    advance_to(i + 1);
  }

  void lex_operator(std::vector<char>& brackets) {
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (auto op : kTwo) {
      if (starts_with(src_, pos_, op)) {
        tokens_.push_back(Token{TokenType::op, std::string(op), 0, 0, line_});
        advance_to(pos_ + 2);
        return;
      }
    }
    char c = src_[pos_];
    static constexpr std::string_view kOne = "+-/*%~[](){}=.:|,;<>";
    if (kOne.find(c) == std::string_view::npos) {
      syntax_error(line_, std::string("unexpected character '") + c + "'");
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty()) syntax_error(line_, std::string("unexpected '") + c + "'");
      if (brackets.back() != c) {
        syntax_error(line_,
                     std::string("unexpected '") + c + "', expected '" + brackets.back() + "'");
      }
      brackets.pop_back();
    }
    tokens_.push_back(Token{TokenType::op, std::string(1, c), 0, 0, line_});
    advance_to(pos_ + 1);
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool last_match_newline_ = false;
  std::vector<Token> tokens_;
};

// jinja2 reads the source line by line: "\r\n" and "\r" become "\n", and (keep_trailing_newline
// false) a single trailing newline is dropped.
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  if (!is_valid_utf8(source)) {
    throw Error(ErrorCode::invalid_argument, "template source is not valid UTF-8");
  }
  return Lexer(normalize_newlines(source)).run();
}

}  // namespace inference::chat::jinja
