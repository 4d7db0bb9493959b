// tokenizer/text_cleanup.hpp — the two published "clean up spaces" rules applied after
// decoding: llama.cpp's clean_spaces (GPT-2 style BPE vocabs) and transformers'
// clean_up_tokenization (tokenizer_config.json clean_up_tokenization_spaces).
#pragma once

#include <string>
#include <string_view>

namespace inference::tokenizer {

/// llama.cpp: " ?" " !" " ." " ," lose the space; " ' " becomes "'"; " 's" " 'm" " 're" " 've"
/// lose the space.
std::string llama_clean_spaces(std::string_view text);

/// transformers: the sequence of replacements " ." -> "." … " 're" -> "'re".
std::string hf_clean_up_tokenization(std::string_view text);

}  // namespace inference::tokenizer
