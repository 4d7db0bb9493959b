// tokenizer/tokenizer.hpp — text <-> token ids, exactly as the model's reference tokenizer.
//
// Built from GGUF metadata (tokenizer.ggml.*) or a Hugging Face tokenizer.json
// (+ tokenizer_config.json). Two algorithms: SentencePiece-style (scores, byte fallback) and
// byte-level BPE (merges) with the pre-tokenizer the model names. Immutable after construction:
// every const member is thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inference::formats {
class GgufFile;
}

namespace inference::tokenizer {

/// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

/// Options of Tokenizer::decode_with (defaults = decode()).
struct DecodeOptions {
  /// The ids continue an earlier sequence: do not drop the leading space that a SentencePiece
  /// vocabulary's first token carries (used by StreamingDetokenizer).
  bool continued = false;
  /// Override the model's clean-up of spaces before punctuation (llama.cpp clean_spaces for
  /// GGUF, clean_up_tokenization_spaces for tokenizer.json); nullopt = the model's setting.
  std::optional<bool> clean_up_spaces;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// From GGUF metadata. Throws inference::Error (invalid_model / unsupported) naming the key.
  static std::unique_ptr<Tokenizer> from_gguf(const formats::GgufFile& file);
  /// From a tokenizer.json path, or a directory holding tokenizer.json (+ tokenizer_config.json).
  static std::unique_ptr<Tokenizer> from_hf(const std::filesystem::path& path);
  /// A .gguf file, a tokenizer.json, or a model directory.
  static std::unique_ptr<Tokenizer> load(const std::filesystem::path& path);

  /// add_special: BOS/EOS per the model's rules (add_bos/add_eos). parse_special: the text of
  /// control/user-defined tokens becomes those tokens (longest match first); otherwise all text
  /// is plain text.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;
  /// The text of `ids`, like llama_detokenize(remove_special=false, unparse_special=true) for
  /// GGUF vocabs (and the tokenizer.json decoder for HF). Invalid ids throw
  /// Error(invalid_argument).
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  /// decode() with options.
  virtual std::string decode_with(std::span<const int32_t> ids,
                                  const DecodeOptions& options) const = 0;
  /// Whether decode() cleans up spaces before punctuation (so text can change retroactively).
  virtual bool cleans_up_spaces() const = 0;
  /// The bytes one token contributes to decoded text (special tokens as their text). May be an
  /// incomplete UTF-8 sequence (byte tokens).
  virtual std::string token_to_piece(int32_t id) const = 0;
  /// The raw vocabulary string of a token.
  virtual std::string_view token_text(int32_t id) const = 0;
  virtual TokenType token_type(int32_t id) const = 0;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t bos_id() const = 0;  ///< -1 if none
  virtual int32_t eos_id() const = 0;  ///< -1 if none
  virtual bool add_bos() const = 0;
  virtual bool add_eos() const = 0;
  /// End-of-generation: eos, eot (<|eot_id|>, <end_of_turn>, <|im_end|>…), eom.
  virtual bool is_end_of_generation(int32_t id) const = 0;
  /// "spm" / "bpe" (the algorithm), and the pre-tokenizer name ("llama3", "qwen2", "default"…).
  virtual std::string_view model_name() const = 0;
  virtual std::string_view pre_name() const = 0;
};

/// Turns a stream of ids into text pieces that never split a UTF-8 character: holds back
/// incomplete sequences, and handles the SentencePiece leading space so that the pieces of a
/// stream concatenate to exactly decode(all ids).
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer);
  /// The text that became complete with `id` (possibly empty).
  std::string push(int32_t id);
  /// Whatever is still held back at the end (incomplete bytes are emitted as they are).
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  std::vector<int32_t> ids_;  ///< ids since the last point where the text was complete
  size_t emitted_bytes_ = 0;  ///< bytes of decode(ids_) already returned
  bool continued_ = false;    ///< ids_ follows earlier, already emitted ids
};

}  // namespace inference::tokenizer
