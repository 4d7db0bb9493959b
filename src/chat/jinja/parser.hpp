// chat/jinja/parser.hpp — turns the token stream into a Program, following jinja2's grammar and
// operator precedence. Tags, filters and tests that jinja2 has but we do not implement are
// Error(unsupported) naming them; anything jinja2 itself would reject is Error(invalid_argument).
#pragma once

#include <string_view>

#include "chat/jinja/ast.hpp"

namespace inference::chat::jinja {

/// Parses a template source. Nesting (brackets, blocks) is bounded so hostile input cannot
/// exhaust the stack.
Program parse(std::string_view source);

}  // namespace inference::chat::jinja
