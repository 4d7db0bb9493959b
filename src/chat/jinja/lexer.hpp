// chat/jinja/lexer.hpp — splits a template into text and tag tokens the way jinja2's lexer does
// for the Hugging Face environment: newlines normalised to "\n", one trailing newline dropped,
// `-`/`+` whitespace control, trim_blocks (the newline after a block or comment tag goes) and
// lstrip_blocks (spaces before a block or comment tag on its own line go), raw blocks, and
// Python string-literal escapes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace inference::chat::jinja {

enum class TokenType {
  data,            ///< literal template text
  variable_begin,  ///< {{
  variable_end,    ///< }}
  block_begin,     ///< {%
  block_end,       ///< %}
  name,
  string,  ///< text holds the decoded value
  integer,
  floating,
  op,  ///< operator or punctuation, text holds it: "==", "(", "|", …
  eof,
};

struct Token {
  TokenType type = TokenType::eof;
  std::string text;
  int64_t integer = 0;
  double floating = 0;
  int line = 1;
};

/// Tokenizes `source`. Throws Error(invalid_argument) naming the line for malformed input
/// (unterminated tags, comments or strings, bad characters, bad escapes).
std::vector<Token> tokenize(std::string_view source);

}  // namespace inference::chat::jinja
