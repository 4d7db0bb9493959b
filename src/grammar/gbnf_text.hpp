// grammar/gbnf_text.hpp — writing GBNF source: quoted literals and character classes with
// every byte that could confuse the parser escaped. Used by the JSON Schema and regex
// compilers, which produce GBNF text (so `--json-schema` output can be inspected and reused
// as a .gbnf file).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar_builder.hpp"

namespace inference::grammar {

/// `"…"` matching exactly `text` (UTF-8 passes through; quotes, backslashes, controls escaped).
std::string gbnf_literal(std::string_view text);
/// `[…]` over normalised code-point ranges (never negated: callers complement first).
/// Returns an empty string for an empty set.
std::string gbnf_class(const std::vector<CodepointRange>& ranges);

}  // namespace inference::grammar
