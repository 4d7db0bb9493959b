// ml/label_match.hpp — turning a model's next token into one of the labels.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inference::ml {

/// The label `token` names, or "unknown". Case-insensitive; surrounding spaces, SentencePiece
/// '▁' markers and punctuation are ignored. A match is the whole label ("Technical") or an
/// unambiguous prefix fragment of at least two characters ("tech" → technical; "c" and "ca"
/// would be ambiguous between creative and casual only if both start so). A token that is not
/// a prefix of a label never matches: "castle" is not casual.
std::string match_label(std::string_view token, const std::vector<std::string>& labels);

}  // namespace inference::ml
