// tokenizer/hf_tokenizer.hpp — a tokenizer from a Hugging Face tokenizer.json that behaves like
// the tokenizers library: added tokens (leftmost-longest), normalizers, pre-tokenizers, a BPE
// model (byte-level or with byte fallback), post-processor and decoder pipeline, plus
// transformers' clean_up_tokenization_spaces from tokenizer_config.json.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe.hpp"
#include "tokenizer/regex_split.hpp"
#include "tokenizer/special_tokens.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab.hpp"

namespace inference::tokenizer {

class HfTokenizer final : public Tokenizer {
 public:
  struct SplitStep {
    SplitRegex regex;
    SplitBehavior behavior;
  };
  struct DecodeStep {
    enum Kind { byte_level, replace, byte_fallback, fuse, strip, metaspace } kind;
    std::string from, to;  ///< replace: from -> to; metaspace: replacement -> " "
    size_t strip_start = 0, strip_stop = 0;
    bool metaspace_strip_first = false;
  };
  struct AddedToken {
    int32_t id;
    std::string content;
    bool special, lstrip, rstrip;
  };
  /// Everything read from tokenizer.json / tokenizer_config.json (see hf_tokenizer_load.cpp).
  struct Settings {
    std::vector<std::string_view> model_texts;  ///< by id; "" where the model has no token
    std::vector<AddedToken> added;
    // normalizers, applied in this order
    bool nfc = false;
    std::vector<std::pair<std::string, std::string>> replacements;
    std::string prepend;
    // pre-tokenizer
    std::vector<SplitStep> splits;
    bool byte_level = false;
    // BPE model
    std::vector<std::pair<std::string_view, std::string_view>> merges;
    bool ignore_merges = false, byte_fallback = false, fuse_unk = false;
    int32_t unk = -1;
    // post-processor (single sequence)
    std::vector<int32_t> prefix, suffix;
    // decoder
    std::vector<DecodeStep> decoder;
    bool clean_up_spaces = false;
    int32_t bos = -1, eos = -1;
    std::string pre_name;
  };

  explicit HfTokenizer(Settings settings);

  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special) const override;
  std::string decode(std::span<const int32_t> ids) const override { return decode_with(ids, {}); }
  std::string decode_with(std::span<const int32_t> ids,
                          const DecodeOptions& options) const override;
  bool cleans_up_spaces() const override { return clean_up_spaces_; }
  std::string token_to_piece(int32_t id) const override;
  std::string_view token_text(int32_t id) const override;
  TokenType token_type(int32_t id) const override;
  int32_t n_vocab() const override { return vocab_->size(); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  bool add_bos() const override;
  bool add_eos() const override;
  bool is_end_of_generation(int32_t id) const override;
  std::string_view model_name() const override { return "bpe"; }
  std::string_view pre_name() const override { return pre_name_; }

 private:
  std::string normalize(std::string_view text) const;
  void encode_word(std::string_view word, std::vector<BpeSymbol>& symbols, BpeScratch& scratch,
                   std::vector<int32_t>& out) const;
  int32_t model_find(std::string_view text) const noexcept;
  std::string decode_tokens(std::span<const int32_t> ids, bool continued, bool lossy) const;
  void check_id(int32_t id) const;

  std::unique_ptr<Vocab> vocab_;  ///< model vocabulary (texts of added-only ids are "")
  std::vector<bool> in_model_;    ///< id has a model-vocabulary text
  std::unordered_map<int32_t, std::string> added_text_;
  std::vector<TokenType> types_;
  SpecialTokenMatcher added_;
  bool nfc_;
  std::vector<std::pair<std::string, std::string>> replacements_;
  std::string prepend_;
  std::vector<SplitStep> splits_;
  bool byte_level_;
  BpeMerges merges_;
  bool ignore_merges_, byte_fallback_, fuse_unk_;
  int32_t unk_;
  int32_t byte_symbol_[256];
  int32_t byte_token_[256];
  std::vector<int32_t> prefix_, suffix_;
  std::vector<DecodeStep> decoder_;
  bool clean_up_spaces_;
  int32_t bos_, eos_;
  std::vector<int32_t> end_of_generation_;
  std::string pre_name_;
};

/// The tokenizer of a GGUF file that carries tokenizer.json as tokenizer.huggingface.json and
/// no tokenizer.ggml.model (written by `infer quantize` from a Hugging Face directory); BOS/EOS
/// ids and clean-up come from tokenizer.ggml.bos_token_id / eos_token_id / clean_spaces.
std::unique_ptr<Tokenizer> hf_tokenizer_from_gguf(const formats::GgufFile& file);

}  // namespace inference::tokenizer
