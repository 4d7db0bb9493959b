// Small Hugging Face model files for tests that write Safetensors directories.
#pragma once

#include <string>

namespace inference::test {

/// A byte-level BPE tokenizer.json of the printable ASCII characters (GPT-2's byte alphabet maps
/// them to themselves: ids 0..93 for '!'..'~'), no merges — enough for Tokenizer::from_hf.
std::string tiny_tokenizer_json();

}  // namespace inference::test
