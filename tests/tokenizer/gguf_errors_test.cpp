// Bad input gives a clear inference::Error naming what is wrong: broken or unsupported
// tokenizer metadata, malformed tokenizer.json, out-of-range ids.
#include <gtest/gtest.h>

#include <fstream>

#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::tokenizer {
namespace {

// A tiny byte-level BPE vocabulary: the 256 byte characters, "ab", and merges.
void tiny_bpe(formats::GgufWriter& w) {
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "gpt-2");
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    if (printable)
      tokens.push_back(b < 0x80 ? std::string(1, static_cast<char>(b))
                                : std::string{static_cast<char>(0xC0 | (b >> 6)),
                                              static_cast<char>(0x80 | (b & 0x3F))});
  }
  tokens.push_back("ab");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
}

ErrorCode load_error(formats::GgufWriter& w, std::string* message = nullptr) {
  const auto dir = test::make_temp_dir("tokenizer-errors");
  const auto path = dir / "vocab.gguf";
  w.write(path);
  try {
    Tokenizer::load(path);
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return ErrorCode::ok;
}

TEST(TokenizerErrors, TinyVocabularyWorks) {
  formats::GgufWriter w;
  tiny_bpe(w);
  const auto dir = test::make_temp_dir("tokenizer-errors");
  w.write(dir / "vocab.gguf");
  const auto tok = Tokenizer::load(dir / "vocab.gguf");
  const auto ids = tok->encode("ab", false, false);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(tok->token_text(ids[0]), "ab");
  EXPECT_EQ(tok->decode(ids), "ab");
  EXPECT_EQ(tok->model_name(), "bpe");
  EXPECT_EQ(tok->pre_name(), "gpt-2");
  const int32_t bad[] = {tok->n_vocab()};
  try {
    tok->decode(bad);
    FAIL() << "no error for an out-of-range id";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find(std::to_string(tok->n_vocab())), std::string::npos);
  }
}

TEST(TokenizerErrors, MissingModelKey) {
  formats::GgufWriter w;
  w.set_string("general.architecture", "llama");
  std::string message;
  EXPECT_EQ(load_error(w, &message), ErrorCode::invalid_model);
  EXPECT_NE(message.find("tokenizer.ggml.model"), std::string::npos);
}

TEST(TokenizerErrors, UnknownModelAndPreTokenizer) {
  formats::GgufWriter w;
  tiny_bpe(w);
  w.set_string("tokenizer.ggml.pre", "no-such-pre");
  std::string message;
  EXPECT_EQ(load_error(w, &message), ErrorCode::unsupported);
  EXPECT_NE(message.find("no-such-pre"), std::string::npos);
  w.set_string("tokenizer.ggml.model", "wordpiece-x");
  EXPECT_EQ(load_error(w, &message), ErrorCode::unsupported);
  EXPECT_NE(message.find("wordpiece-x"), std::string::npos);
}

TEST(TokenizerErrors, InconsistentArrays) {
  formats::GgufWriter w;
  tiny_bpe(w);
  w.set_f32_array("tokenizer.ggml.scores", {1.0f, 2.0f});
  std::string message;
  EXPECT_EQ(load_error(w, &message), ErrorCode::invalid_model);
  EXPECT_NE(message.find("tokenizer.ggml.scores"), std::string::npos);
  formats::GgufWriter w2;
  tiny_bpe(w2);
  w2.set_string_array("tokenizer.ggml.merges", {});
  EXPECT_EQ(load_error(w2, &message), ErrorCode::invalid_model);
  EXPECT_NE(message.find("merges"), std::string::npos);
}

TEST(TokenizerErrors, MissingPath) {
  try {
    Tokenizer::load("/nonexistent/tokenizer/vocab.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST(TokenizerErrors, BadTokenizerJson) {
  const auto dir = test::make_temp_dir("tokenizer-json");
  auto write = [&](const std::string& text) { std::ofstream(dir / "tokenizer.json") << text; };
  auto code = [&] {
    try {
      Tokenizer::load(dir);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::ok;
  };
  write("{ not json");
  EXPECT_EQ(code(), ErrorCode::invalid_model);
  write(R"({"model": {"type": "WordPiece", "vocab": {}}})");
  EXPECT_EQ(code(), ErrorCode::unsupported);
  write(R"({"model": {"type": "BPE", "vocab": {"a": -4}, "merges": []}})");
  EXPECT_EQ(code(), ErrorCode::invalid_model);
  write(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
           "pre_tokenizer": {"type": "Whitespace"}})");
  EXPECT_EQ(code(), ErrorCode::unsupported);
  write(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})");
  EXPECT_EQ(code(), ErrorCode::ok);
}

}  // namespace
}  // namespace inference::tokenizer
