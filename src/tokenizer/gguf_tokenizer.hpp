// tokenizer/gguf_tokenizer.hpp — a tokenizer from GGUF metadata that behaves like llama.cpp's
// (llama_tokenize / llama_detokenize): SentencePiece-style for tokenizer.ggml.model "llama",
// byte-level BPE with the named pre-tokenizer for "gpt2".
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe.hpp"
#include "tokenizer/llama_pre_tokenizer.hpp"
#include "tokenizer/regex_split.hpp"
#include "tokenizer/special_tokens.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab.hpp"

namespace inference::tokenizer {

class GgufTokenizer final : public Tokenizer {
 public:
  /// Everything read from the file (see gguf_tokenizer_load.cpp).
  struct Settings {
    bool spm = true;
    LlamaPreTokenizer pre;
    std::vector<std::pair<std::string_view, std::string_view>> merges;  ///< BPE only
    int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
    bool add_bos = false, add_eos = false, add_space_prefix = false;
    std::vector<int32_t> end_of_generation;
    std::vector<int32_t> rstrip_tokens;  ///< special tokens that eat whitespace on their right
  };

  GgufTokenizer(std::unique_ptr<Vocab> vocab, Settings settings);

  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special) const override;
  std::string decode(std::span<const int32_t> ids) const override { return decode_with(ids, {}); }
  std::string decode_with(std::span<const int32_t> ids,
                          const DecodeOptions& options) const override;
  bool cleans_up_spaces() const override { return !spm_ && pre_.clean_spaces; }
  std::string token_to_piece(int32_t id) const override;
  std::string_view token_text(int32_t id) const override;
  TokenType token_type(int32_t id) const override;
  int32_t n_vocab() const override { return vocab_->size(); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  bool add_bos() const override { return add_bos_; }
  bool add_eos() const override { return add_eos_; }
  bool is_end_of_generation(int32_t id) const override;
  std::string_view model_name() const override { return spm_ ? "spm" : "bpe"; }
  std::string_view pre_name() const override {
    return spm_ ? std::string_view("default") : std::string_view(pre_.name);
  }

 private:
  void encode_spm_text(std::string_view text, bool space_prefix, std::vector<int32_t>& out) const;
  void encode_bpe_text(std::string_view text, std::vector<int32_t>& out) const;
  void emit_bpe_symbol(std::string_view word, const BpeSymbol& s, std::vector<int32_t>& out) const;
  int32_t bpe_symbol_id(std::string_view encoded);
  void check_id(int32_t id) const;

  std::unique_ptr<Vocab> vocab_;
  bool spm_;
  LlamaPreTokenizer pre_;
  std::vector<SplitRegex> regexes_;
  BpeMerges merges_;
  std::vector<std::string> extra_symbols_;  ///< merge results that are not tokens (id n_vocab+i)
  std::unordered_map<std::string, int32_t> extra_index_;
  int32_t byte_symbol_[256];  ///< BPE: symbol of each byte's byte-level character
  int32_t byte_token_[256];   ///< SPM: <0xXX> tokens
  SpecialTokenMatcher special_;
  int32_t bos_, eos_;
  bool add_bos_, add_eos_, add_space_prefix_;
  std::vector<int32_t> end_of_generation_;
};

}  // namespace inference::tokenizer
