// tokenizer/spm.hpp — SentencePiece-style segmentation as llama.cpp does it for GGUF "llama"
// vocabularies: start from single characters and repeatedly merge the adjacent pair whose
// concatenation is the token with the highest score (leftmost on ties); characters left
// without a token become byte tokens <0xXX>.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace inference::tokenizer {

/// Appends the tokens of `text` (already whitespace-escaped) to `out`. `byte_tokens[b]` is the
/// id of <0xXX> for byte b, or `unknown_id` where the vocabulary lacks it.
void spm_tokenize(std::string_view text, const Vocab& vocab, const int32_t (&byte_tokens)[256],
                  std::vector<int32_t>& out);

}  // namespace inference::tokenizer
