// testing/synthetic_vocab.cpp — see synthetic_vocab.hpp.
#include "testing/synthetic_vocab.hpp"

#include "arch/architecture.hpp"
#include "inference/error.hpp"

namespace inference::testing {

std::string gpt2_byte_text(int b) {
  auto printable = [](int c) {
    return (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255);
  };
  int code = b;
  if (!printable(b)) {
    int n = 0;
    for (int c = 0; c < b; ++c) n += printable(c) ? 0 : 1;
    code = 256 + n;
  }
  std::string out;
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
  return out;
}

std::string pre_tokenizer_for(std::string_view architecture) {
  const arch::Architecture* a = arch::find(architecture);
  return std::string(a != nullptr ? a->pre_tokenizer : "gpt-2");
}

void write_synthetic_vocab(formats::GgufWriter& writer, int64_t n_vocab, const std::string& pre) {
  if (n_vocab < kSyntheticMinVocab || n_vocab > (int64_t{1} << 24)) {
    throw Error(ErrorCode::invalid_argument,
                "synthetic vocabulary size " + std::to_string(n_vocab) + " is outside [" +
                    std::to_string(kSyntheticMinVocab) + ", 16777216]");
  }
  const int64_t n_normal = n_vocab - kSyntheticSpecialTokens;
  std::vector<std::string> byte_text(256);
  for (int b = 0; b < 256; ++b) byte_text[b] = gpt2_byte_text(b);

  std::vector<std::string> tokens;
  std::vector<std::string> merges;
  tokens.reserve(static_cast<size_t>(n_vocab));
  merges.reserve(static_cast<size_t>(n_normal - 256));
  for (int b = 0; b < 256; ++b) tokens.push_back(byte_text[b]);
  // Two-byte tokens (65536), then three-byte tokens built on them: every new token is the
  // concatenation of two existing ones, so each merge is valid and each token unique.
  for (int a = 0; a < 256 && static_cast<int64_t>(tokens.size()) < n_normal; ++a) {
    for (int b = 0; b < 256 && static_cast<int64_t>(tokens.size()) < n_normal; ++b) {
      tokens.push_back(byte_text[a] + byte_text[b]);
      merges.push_back(byte_text[a] + " " + byte_text[b]);
    }
  }
  for (int a = 0; a < 256 && static_cast<int64_t>(tokens.size()) < n_normal; ++a) {
    for (int b = 0; b < 256 && static_cast<int64_t>(tokens.size()) < n_normal; ++b) {
      const std::string pair = byte_text[a] + byte_text[b];
      for (int c = 0; c < 256 && static_cast<int64_t>(tokens.size()) < n_normal; ++c) {
        tokens.push_back(pair + byte_text[c]);
        merges.push_back(pair + " " + byte_text[c]);
      }
    }
  }
  std::vector<int32_t> types(tokens.size(), 1);  // normal
  const auto bos = static_cast<int32_t>(tokens.size());
  tokens.push_back("<|begin_of_text|>");
  types.push_back(3);  // control
  const auto eos = static_cast<int32_t>(tokens.size());
  tokens.push_back("<|end_of_text|>");
  types.push_back(3);

  writer.set_string("tokenizer.ggml.model", "gpt2");
  writer.set_string("tokenizer.ggml.pre", pre);
  writer.set_string_array("tokenizer.ggml.tokens", tokens);
  writer.set_i32_array("tokenizer.ggml.token_type", types);
  writer.set_string_array("tokenizer.ggml.merges", merges);
  writer.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
  writer.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
  writer.set_bool("tokenizer.ggml.add_bos_token", true);
  writer.set_bool("tokenizer.ggml.add_eos_token", false);
}

void copy_vocab(formats::GgufWriter& writer, const formats::GgufFile& vocab, int64_t n_vocab) {
  const auto* tokens = vocab.find("tokenizer.ggml.tokens");
  const auto* array = tokens ? tokens->as_array() : nullptr;
  if (array == nullptr) {
    throw Error(ErrorCode::invalid_model,
                vocab.path().string() + ": no tokenizer.ggml.tokens array to copy");
  }
  if (static_cast<int64_t>(array->items.size()) != n_vocab) {
    throw Error(ErrorCode::invalid_argument,
                vocab.path().string() + " has " + std::to_string(array->items.size()) +
                    " tokens but the shape needs " + std::to_string(n_vocab));
  }
  for (const auto& [key, value] : vocab.metadata()) {
    if (key.rfind("tokenizer.", 0) == 0) writer.set(key, value);
  }
}

}  // namespace inference::testing
