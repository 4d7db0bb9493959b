// fuzz_tokenizer — encodes arbitrary bytes with a SentencePiece vocabulary and two byte-level
// BPE vocabularies (loaded once, from ../shared/testdata: the fuzzer runs from the repository
// root; $INFERENCE_TESTDATA overrides). Checks: no crash; ids in range; for byte-level BPE and
// valid UTF-8 input, decode(encode(x)) == x; streamed pieces concatenate to the full decode.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace {

using inference::tokenizer::Tokenizer;

struct Loaded {
  std::unique_ptr<Tokenizer> tokenizer;
  bool byte_level;
};

std::vector<Loaded> load_all() {
  std::filesystem::path dir = "../shared/testdata/vocab";
  if (const char* env = std::getenv("INFERENCE_TESTDATA"); env && *env)
    dir = std::filesystem::path(env) / "vocab";
  std::vector<Loaded> out;
  out.push_back({Tokenizer::load(dir / "ggml-vocab-llama-spm.gguf"), false});
  out.push_back({Tokenizer::load(dir / "ggml-vocab-gpt-2.gguf"), true});
  out.push_back({Tokenizer::load(dir / "ggml-vocab-deepseek-llm.gguf"), true});
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Loaded> tokenizers = load_all();
  if (size == 0) return 0;
  const bool parse_special = (data[0] & 1) != 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (const auto& [tok, byte_level] : tokenizers) {
    const auto ids = tok->encode(text, /*add_special=*/false, parse_special);
    for (int32_t id : ids) {
      if (id < 0 || id >= tok->n_vocab()) std::abort();
    }
    const std::string full = tok->decode(ids);
    inference::tokenizer::StreamingDetokenizer stream(*tok);
    std::string joined;
    for (int32_t id : ids) joined += stream.push(id);
    joined += stream.flush();
    if (joined != full) std::abort();
    if (byte_level && inference::tokenizer::is_valid_utf8(text)) {
      // deepseek-llm keeps user-defined single-character tokens such as "õ" as text, so the
      // round trip holds for both vocabularies.
      const std::string back = tok->decode_with(ids, {.clean_up_spaces = false});
      if (back != text) std::abort();
    }
  }
  return 0;
}
