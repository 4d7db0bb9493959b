// testing/synthetic_vocab.hpp — the tokenizer metadata of a generated model: a synthetic byte-level
// BPE vocabulary of the shape's exact size, or the tokenizer.* keys copied from a vocab GGUF.
//
// A benchmark needs the right vocabulary *size* (the output matmul and the embedding rows
// dominate small models) but not real merges, so the synthetic vocab is: the 256 byte tokens in
// GPT-2's byte-to-unicode spelling, then every two-byte pair, then three-byte sequences, each
// reachable by one merge, and BOS/EOS control tokens at the end (as Llama 3 places them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.hpp"

namespace inference::testing {

inline constexpr int64_t kSyntheticSpecialTokens = 2;  // BOS, EOS
inline constexpr int64_t kSyntheticMinVocab = 256 + kSyntheticSpecialTokens + 1;

/// GPT-2's printable spelling of byte `b` (bytes that are not printable Latin-1 map to U+0100+).
std::string gpt2_byte_text(int b);

/// The llama.cpp pre-tokenizer name (tokenizer.ggml.pre) of the real models of an architecture
/// (the architecture table's; "gpt-2" for architectures it does not know).
std::string pre_tokenizer_for(std::string_view architecture);

/// Writes tokenizer.ggml.* for a synthetic gpt2-style BPE vocabulary of exactly n_vocab tokens,
/// pre-tokenized as `pre` (a llama.cpp tokenizer.ggml.pre name).
void write_synthetic_vocab(formats::GgufWriter& writer, int64_t n_vocab, const std::string& pre);

/// Copies every tokenizer.* key of the vocab GGUF `vocab` (e.g. testdata's peer-vocab-*.gguf)
/// and checks that its size is the shape's.
void copy_vocab(formats::GgufWriter& writer, const formats::GgufFile& vocab, int64_t n_vocab);

}  // namespace inference::testing
