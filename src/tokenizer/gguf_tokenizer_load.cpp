// Tokenizer::from_gguf — reads tokenizer.ggml.* into a GgufTokenizer, with llama.cpp's
// defaults and its by-name adjustments (end-of-generation tokens made control tokens, Phi-3's
// right-stripping special tokens), so that the result tokenizes as llama.cpp does.
#include <algorithm>
#include <cctype>

#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "tokenizer/gguf_tokenizer.hpp"
#include "tokenizer/hf_tokenizer.hpp"

namespace inference::tokenizer {
namespace {

Error bad(const formats::GgufFile& file, const std::string& what) {
  return Error(ErrorCode::invalid_model, file.path().string() + ": " + what);
}

// Texts llama.cpp recognises as end-of-turn / end-of-generation / fill-in-the-middle tokens;
// a token with one of these texts is treated as a control token whatever its stored type.
constexpr std::string_view kEndOfGeneration[] = {
    "<|eot_id|>",    "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",        "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>",   "_<EOT>",     "<|end_of_text|>", "<end_of_utterance>",
};
constexpr std::string_view kEndOfTurn[] = {
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "</s>",
    "<EOT>",
    "_<EOT>",
    "<\xEF\xBD\x9C"
    "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "<end_of_utterance>",
};
constexpr std::string_view kFillInTheMiddle[] = {
    "<|fim_prefix|>",
    "<fim-prefix>",
    "<fim_prefix>",
    "<\xEF\xBD\x9C"
    "fim\xE2\x96\x81"
    "begin\xEF\xBD\x9C>",
    "<PRE>",
    "\xE2\x96\x81<PRE>",
    "<|fim_suffix|>",
    "<fim-suffix>",
    "<fim_suffix>",
    "<\xEF\xBD\x9C"
    "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
    "<SUF>",
    "\xE2\x96\x81<SUF>",
    "<|fim_middle|>",
    "<fim-middle>",
    "<fim_middle>",
    "<\xEF\xBD\x9C"
    "fim\xE2\x96\x81"
    "end\xEF\xBD\x9C>",
    "<MID>",
    "\xE2\x96\x81<MID>",
    "<|fim_pad|>",
    "<fim-pad>",
    "<fim_pad>",
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<REPO>",
    "<reponame>",
    "<|file_sep|>",
    "<file_sep>",
    "<fim-sep>",
    "<SEP>",
};

template <size_t N>
bool listed(const std::string_view (&list)[N], std::string_view text) {
  return std::find(std::begin(list), std::end(list), text) != std::end(list);
}

TokenType token_type_from(int64_t v) {
  return v >= 0 && v <= 6 ? static_cast<TokenType>(v) : TokenType::undefined;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const formats::GgufFile& file) {
  const auto model = file.get_string("tokenizer.ggml.model");
  if (!model && file.find("tokenizer.huggingface.json") != nullptr) {
    return hf_tokenizer_from_gguf(file);
  }
  if (!model) throw bad(file, "tokenizer.ggml.model is missing (the file carries no tokenizer)");
  GgufTokenizer::Settings s;
  if (*model == "llama") {
    s.spm = true;
    s.bos = 1, s.eos = 2, s.unk = 0;
    s.add_space_prefix = true;
    s.add_bos = true;
  } else if (*model == "gpt2") {
    s.spm = false;
    s.bos = 11, s.eos = 11;
  } else {
    throw Error(ErrorCode::unsupported, file.path().string() + ": tokenizer.ggml.model '" +
                                            std::string(*model) +
                                            "' is not supported (only 'llama' and 'gpt2')");
  }

  const auto texts = file.get_string_array("tokenizer.ggml.tokens");
  if (texts.empty()) throw bad(file, "tokenizer.ggml.tokens is missing or empty");
  if (texts.size() > static_cast<size_t>(INT32_MAX))
    throw bad(file, "tokenizer.ggml.tokens has too many entries");
  size_t total = 0;
  for (auto t : texts) total += t.size();
  if (total >= UINT32_MAX) throw bad(file, "tokenizer.ggml.tokens is too large");
  const auto n = static_cast<int32_t>(texts.size());

  std::vector<float> scores = file.get_float_array("tokenizer.ggml.scores");
  if (!scores.empty() && scores.size() != texts.size()) {
    throw bad(file, "tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " +
                        std::to_string(n) + " tokens");
  }
  const auto raw_types = file.get_int_array("tokenizer.ggml.token_type");
  if (!raw_types.empty() && raw_types.size() != texts.size()) {
    throw bad(file, "tokenizer.ggml.token_type has " + std::to_string(raw_types.size()) +
                        " entries for " + std::to_string(n) + " tokens");
  }
  std::vector<TokenType> types(texts.size(), TokenType::normal);
  for (size_t i = 0; i < raw_types.size(); ++i) types[i] = token_type_from(raw_types[i]);

  // llama.cpp renames empty tokens so that they can be neither matched nor confused.
  std::vector<std::string> renamed;
  std::vector<std::string_view> names(texts.begin(), texts.end());
  for (int32_t i = 0; i < n; ++i) {
    if (names[i].empty()) renamed.push_back("[EMPTY_" + std::to_string(i) + "]");
  }
  for (int32_t i = 0, r = 0; i < n; ++i) {
    if (names[i].empty()) names[i] = renamed[r++];
  }
  auto vocab = std::make_unique<Vocab>(names, std::move(types), std::move(scores));

  if (!s.spm) {
    s.pre = llama_pre_tokenizer(file.get_string("tokenizer.ggml.pre").value_or(""));
    s.add_bos = s.pre.add_bos;
    const auto merges = file.get_string_array("tokenizer.ggml.merges");
    if (merges.empty())
      throw bad(file, "tokenizer.ggml.merges is missing (required for a gpt2 tokenizer)");
    s.merges.reserve(merges.size());
    for (auto m : merges) {
      // "left right"; the separator is searched from the second byte, as llama.cpp does.
      const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
      if (space == std::string_view::npos) {
        s.merges.emplace_back(std::string_view(), std::string_view());
        continue;
      }
      s.merges.emplace_back(m.substr(0, space), m.substr(space + 1));
    }
  }

  auto read_id = [&](const char* key, int32_t& id) {
    if (auto v = file.get_int(key); v && *v >= 0 && *v < n) id = static_cast<int32_t>(*v);
  };
  read_id("tokenizer.ggml.bos_token_id", s.bos);
  read_id("tokenizer.ggml.eos_token_id", s.eos);
  read_id("tokenizer.ggml.eot_token_id", s.eot);
  read_id("tokenizer.ggml.eom_token_id", s.eom);
  read_id("tokenizer.ggml.unknown_token_id", s.unk);
  read_id("tokenizer.ggml.padding_token_id", s.pad);
  for (int32_t* id : {&s.bos, &s.eos, &s.unk}) {
    if (*id >= n) *id = -1;
  }
  if (auto v = file.get_bool("tokenizer.ggml.add_space_prefix")) s.add_space_prefix = *v;
  if (auto v = file.get_bool("tokenizer.ggml.add_bos_token")) s.add_bos = *v;
  if (auto v = file.get_bool("tokenizer.ggml.add_eos_token")) s.add_eos = *v;

  // Tokens known by their text.
  for (int32_t id = 0; id < n; ++id) {
    const std::string_view text = vocab->text(id);
    const bool eog = listed(kEndOfGeneration, text);
    if (eog || listed(kEndOfTurn, text) || listed(kFillInTheMiddle, text) || text == "<|eom_id|>") {
      vocab->set_type(id, TokenType::control);
    }
    if (eog) s.end_of_generation.push_back(id);
  }
  for (int32_t id : {s.eos, s.eot, s.eom}) {
    if (id >= 0) s.end_of_generation.push_back(id);
  }

  // Phi-3 models: special tokens swallow the whitespace after them (except <unk>, <s> and
  // <|endoftext|>); llama.cpp keys this on the model name.
  std::string name(file.get_string("general.name").value_or(""));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id = 0; id < n; ++id) {
      const TokenType t = vocab->type(id);
      const std::string_view text = vocab->text(id);
      const bool special =
          t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown;
      if ((special || text == "</s>") && text != "<unk>" && text != "<s>" &&
          text != "<|endoftext|>") {
        s.rstrip_tokens.push_back(id);
      }
    }
  }
  return std::make_unique<GgufTokenizer>(std::move(vocab), std::move(s));
}

}  // namespace inference::tokenizer
