// tokenizer/llama_pre_tokenizer.hpp — what a GGUF `tokenizer.ggml.pre` name means: the regexes
// that split text before BPE (applied one after the other, each splitting the pieces the
// previous one made) and the decoding flags that go with them, as llama.cpp defines them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inference::tokenizer {

struct LlamaPreTokenizer {
  std::string name;                  ///< canonical name ("llama3", "qwen2", "default", …)
  std::vector<std::string> regexes;  ///< PCRE2 syntax
  bool ignore_merges = false;        ///< a word that is itself a token is not merged
  bool clean_spaces = true;          ///< decode removes " ." " ," … (llama.cpp clean_spaces)
  bool add_bos = false;              ///< default when tokenizer.ggml.add_bos_token is absent
};

/// The BPE pre-tokenizer for a `tokenizer.ggml.pre` value ("" = absent = default). Throws
/// Error(unsupported) naming the value if it is not one we implement.
LlamaPreTokenizer llama_pre_tokenizer(std::string_view pre);

}  // namespace inference::tokenizer
