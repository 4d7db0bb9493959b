// grammar/gbnf_parser.hpp — llama.cpp's GBNF grammar format.
//
//   root  ::= "(" expr ")" | [a-z]+ ws   # comments run to the end of the line
//   ws    ::= [ \t\n]*
//
// Rules `name ::= alternatives`; alternation `|`; sequences; groups `( )`; repetition `*` `+`
// `?` `{m}` `{m,}` `{m,n}`; string literals "…"; character classes […] with ranges, negation
// `[^…]` and `.` (any character); escapes \n \r \t \\ \" \[ \] \- \^ \xHH \uHHHH \UHHHHHHHH.
// Newlines end a rule except inside parentheses and after `::=` or `|`. Start symbol `root`.
#pragma once

#include <string_view>

#include "grammar/grammar.hpp"

namespace inference::grammar {

/// Throws Error(invalid_argument) with "grammar: line L, column C: what is wrong".
Grammar parse_gbnf(std::string_view source);

}  // namespace inference::grammar
