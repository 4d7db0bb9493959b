// Small Hugging Face model files for tests that write Safetensors directories.
#pragma once

#include <string>

namespace inference::test {

/// A byte-level BPE tokenizer.json of the printable ASCII characters (GPT-2's byte alphabet maps
/// them to themselves: ids 0..93 for '!'..'~'), no merges — enough for Tokenizer::from_hf.
std::string tiny_tokenizer_json();

/// The Hugging Face name of a GGUF tensor name (`blk.3.attn_q.weight` ->
/// `model.layers.3.self_attn.q_proj.weight`), for llama/qwen2/qwen3 and, with `gemma`, Gemma 3's
/// extra norms. An unknown name is a test failure.
std::string hf_tensor_name(const std::string& gguf, bool gemma);

}  // namespace inference::test
