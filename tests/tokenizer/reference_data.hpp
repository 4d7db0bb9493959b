// Readers for the tokenizer reference files (llama.cpp's .inp/.out format) and a per-process
// cache of loaded tokenizers, so that each vocabulary is loaded once per test program.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace inference::test {

/// Splits an .inp file on "\n__ggml_vocab_test__\n" (the piece after the last one is dropped).
std::vector<std::string> read_inp(const std::string& path);
/// One id list per line of an .out file.
std::vector<std::vector<int32_t>> read_out(const std::string& path);
/// The tokenizer of testdata_dir()/relative, loaded once.
const tokenizer::Tokenizer& cached_tokenizer(const std::string& relative);
/// "1 2 3" for messages.
std::string ids_to_string(const std::vector<int32_t>& ids);

/// The 13 vocabularies of testdata/vocab (file names).
const std::vector<std::string>& vocab_files();

}  // namespace inference::test
