// grammar/regex_to_gbnf.hpp — a regular expression (the subset JSON Schema `pattern`s and
// OpenAI-style regex constraints use) as a GBNF expression.
//
// Supported: literals, `.`, classes `[a-z]` `[^…]` with escapes, `\d \w \s \D \W \S`, groups
// `( )` `(?: )` `(?<name> )`, alternation, quantifiers `* + ? {n} {n,} {n,m}` (lazy `?`
// suffix accepted: same language), `^` at the start and `$` at the end. Anything else
// (backreferences, lookaround, `\b`, possessive quantifiers) is Error(unsupported) naming it.
// The whole text must match (a pattern is treated as anchored at both ends; for JSON Schema,
// whose patterns are unanchored, this produces a subset of the valid strings).
#pragma once

#include <string>
#include <string_view>

namespace inference::grammar {

enum class RegexTarget {
  raw,          ///< characters as they are (a regex constraint on the whole output)
  json_string,  ///< inside a JSON string: `"`, `\` and controls come out as JSON escapes
};

/// A parenthesised GBNF expression. Throws Error(invalid_argument) for a malformed pattern,
/// Error(unsupported) for a feature outside the subset.
std::string regex_to_gbnf(std::string_view pattern, RegexTarget target);

}  // namespace inference::grammar
