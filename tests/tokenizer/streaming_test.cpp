// StreamingDetokenizer: for every corpus string, the pieces pushed out id by id concatenate to
// exactly decode(all ids), and no piece splits a UTF-8 character. Covers SentencePiece byte
// fallback (emoji, CJK), byte-level BPE, clean-up of spaces, and tokenizer.json decoders.
#include <gtest/gtest.h>

#include "reference_data.hpp"
#include "support/testdata.hpp"
#include "tokenizer/utf8.hpp"

namespace inference::test {
namespace {

class Streaming : public ::testing::TestWithParam<std::string> {};

TEST_P(Streaming, PiecesConcatenateToFullDecode) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto& tok = cached_tokenizer(GetParam());
  auto inputs = read_inp((testdata_dir() / "vocab" / "corpus-a.inp").string());
  const auto standard = read_inp((testdata_dir() / "hf" / "qwen3" / "encode.inp").string());
  inputs.insert(inputs.end(), standard.begin(), standard.end());
  inputs.push_back(
      "\xF0\x9F\xA6\x99 llama \xE4\xB8\xAD\xE6\x96\x87 don't , stop . it 's "
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9");
  for (bool special : {false, true}) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto ids = tok.encode(inputs[i], /*add_special=*/true, special);
      const std::string full = tok.decode(ids);
      tokenizer::StreamingDetokenizer stream(tok);
      std::string joined;
      for (int32_t id : ids) {
        const std::string piece = stream.push(id);
        if (tokenizer::is_valid_utf8(full)) {
          EXPECT_TRUE(tokenizer::is_valid_utf8(piece))
              << GetParam() << " test " << i << " split a character";
        }
        joined += piece;
      }
      joined += stream.flush();
      EXPECT_EQ(joined, full) << GetParam() << " test " << i << (special ? " (special)" : "");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Tokenizers, Streaming,
    ::testing::Values("vocab/ggml-vocab-llama-spm.gguf", "vocab/peer-vocab-gemma3.gguf",
                      "vocab/ggml-vocab-phi-3.gguf", "vocab/peer-vocab-llama3.2.gguf",
                      "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-qwen2.gguf", "hf/llama3.1",
                      "hf/qwen3", "hf/gemma3"),
    [](const auto& info) {
      std::string name = info.param;
      for (auto& ch : name) {
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace inference::test
