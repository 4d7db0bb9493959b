// A scripted Engine and Tokenizer for generation tests: the next token is chosen by a function
// of the sequence so far, and every decode is recorded.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace inference::test {

class FakeTokenizer : public tokenizer::Tokenizer {
 public:
  /// Id i has piece pieces[i]; id 0 is end-of-generation.
  explicit FakeTokenizer(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  std::vector<int32_t> encode(std::string_view, bool, bool) const override { return {}; }
  std::string decode(std::span<const int32_t> ids) const override;
  std::string decode_with(std::span<const int32_t> ids,
                          const tokenizer::DecodeOptions&) const override {
    return decode(ids);
  }
  bool cleans_up_spaces() const override { return false; }
  std::string token_to_piece(int32_t id) const override {
    return pieces_.at(static_cast<size_t>(id));
  }
  std::string_view token_text(int32_t id) const override {
    return pieces_.at(static_cast<size_t>(id));
  }
  tokenizer::TokenType token_type(int32_t) const override { return tokenizer::TokenType::normal; }
  int32_t n_vocab() const override { return static_cast<int32_t>(pieces_.size()); }
  int32_t bos_id() const override { return -1; }
  int32_t eos_id() const override { return 0; }
  bool add_bos() const override { return false; }
  bool add_eos() const override { return false; }
  bool is_end_of_generation(int32_t id) const override { return id == 0; }
  std::string_view model_name() const override { return "fake"; }
  std::string_view pre_name() const override { return "default"; }

 private:
  std::vector<std::string> pieces_;
};

class FakeEngine : public engine::Engine {
 public:
  using NextToken = std::function<int32_t(std::span<const int32_t> sequence)>;
  FakeEngine(std::vector<std::string> pieces, NextToken next, int32_t n_sequences = 1,
             int32_t context_length = 1024);

  void decode(const Context& ctx, std::span<const engine::BatchEntry> batch,
              std::vector<float>& logits) override;
  void truncate_sequence(int32_t seq, int32_t from_pos) override;
  int32_t sequence_length(int32_t seq) const override;
  std::span<const int32_t> sequence_tokens(int32_t seq) const override;
  int32_t n_vocab() const override { return tokenizer_.n_vocab(); }
  int32_t context_length() const override { return context_length_; }
  int32_t n_sequences() const override { return static_cast<int32_t>(cache_.size()); }
  const tokenizer::Tokenizer& tokenizer() const override { return tokenizer_; }
  const std::string& chat_template_source() const override { return template_; }
  ModelInfo info() const override { return {}; }
  uint64_t memory_bytes() const override { return 1000; }
  void capture_attention(const Context&, std::span<const int32_t>, int32_t, std::vector<float>&,
                         std::vector<float>&) override {}

  int64_t decoded_entries = 0;  ///< Batch entries evaluated so far.
  int decode_calls = 0;
  std::vector<size_t> batch_sizes;  ///< Entries of every decode call, in order.
  bool check_context = true;        ///< Throw like a real engine when the Context is done.
  std::function<void()> on_decode;  ///< Called at the start of every decode (e.g. to cancel).

 private:
  FakeTokenizer tokenizer_;
  NextToken next_;
  int32_t context_length_;
  std::vector<std::vector<int32_t>> cache_;
  std::string template_;
};

}  // namespace inference::test
