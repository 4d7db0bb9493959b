#include "tokenizer/llama_pre_tokenizer.hpp"

#include "inference/error.hpp"

namespace inference::tokenizer {
namespace {

// The published pre-tokenizer regexes of the models (tokenizer.json of each family), in the
// forms llama.cpp uses (case-insensitive groups spelled out). PCRE2 runs with UCP, so \p{L},
// \p{N}, \p{P} and \s are the full Unicode classes.
constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek LLM's letter class (Latin, Greek, Cyrillic, … letters with case) and CJK ranges.
constexpr const char* kDeepseekLetters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
constexpr const char* kDeepseekPunct =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";
constexpr const char* kCjk = R"([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";

bool is_any(std::string_view pre, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (pre == n) return true;
  }
  return false;
}

}  // namespace

LlamaPreTokenizer llama_pre_tokenizer(std::string_view pre) {
  LlamaPreTokenizer p;
  if (pre.empty() || pre == "default") {
    p.name = "default";
    p.regexes = {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
  } else if (is_any(pre, {"llama3", "llama-v3", "llama-bpe", "falcon3", "dbrx", "smaug-bpe"})) {
    p.name = "llama3";
    p.regexes = {kLlama3};
    p.ignore_merges = pre != "dbrx" && pre != "smaug-bpe";
    p.add_bos = true;
  } else if (pre == "deepseek-llm") {
    p.name = "deepseek-llm";
    p.regexes = {"[\r\n]", kDeepseekLetters, kDeepseekPunct, R"(\s+\z)", kCjk, R"(\p{N}+)"};
    p.clean_spaces = false;
  } else if (pre == "deepseek-coder") {
    p.name = "deepseek-coder";
    p.regexes = {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"};
    p.clean_spaces = false;
  } else if (pre == "falcon") {
    p.name = "falcon";
    p.regexes = {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"};
  } else if (is_any(pre, {"starcoder", "refact", "smollm", "codeshell", "exaone", "minerva-7b"})) {
    p.name = std::string(pre);
    p.regexes = {R"(\p{N})", kGpt2};
  } else if (is_any(pre, {"gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion", "jina-es", "jina-de",
                          "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum"})) {
    p.name = std::string(pre);
    p.regexes = {kGpt2};
  } else if (is_any(pre, {"qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan"})) {
    p.name = std::string(pre);
    p.regexes = {kQwen2};
    p.clean_spaces = pre == "stablelm2";
  } else {
    throw Error(ErrorCode::unsupported, "tokenizer.ggml.pre '" + std::string(pre) +
                                            "' is not a pre-tokenizer this build implements");
  }
  return p;
}

}  // namespace inference::tokenizer
