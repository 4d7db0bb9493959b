#include "fake_engine.hpp"

#include <stdexcept>

#include "inference/error.hpp"

namespace inference::test {

std::string FakeTokenizer::decode(std::span<const int32_t> ids) const {
  std::string text;
  for (int32_t id : ids) text += token_to_piece(id);
  return text;
}

FakeEngine::FakeEngine(std::vector<std::string> pieces, NextToken next, int32_t n_sequences,
                       int32_t context_length)
    : tokenizer_(std::move(pieces)),
      next_(std::move(next)),
      context_length_(context_length),
      cache_(static_cast<size_t>(n_sequences)) {}

void FakeEngine::decode(const Context& ctx, std::span<const engine::BatchEntry> batch,
                        std::vector<float>& logits) {
  ++decode_calls;
  batch_sizes.push_back(batch.size());
  if (on_decode) on_decode();
  if (Status s = ctx.status(); check_context && !s.ok()) throw Error(s);
  size_t rows = 0;
  for (const auto& e : batch) rows += e.logits ? 1 : 0;
  const auto n = static_cast<size_t>(n_vocab());
  logits.assign(rows * n, 0.0f);
  size_t row = 0;
  for (const auto& e : batch) {
    auto& seq = cache_.at(static_cast<size_t>(e.seq));
    if (e.pos != static_cast<int32_t>(seq.size()))
      throw std::logic_error("fake engine: position does not continue the sequence");
    if (static_cast<int32_t>(seq.size()) >= context_length_)
      throw std::logic_error("fake engine: context overflow");
    seq.push_back(e.token);
    ++decoded_entries;
    if (e.logits) {
      const int32_t want = next_(seq);
      logits[row * n + static_cast<size_t>(want)] = 10.0f;
      ++row;
    }
  }
}

void FakeEngine::truncate_sequence(int32_t seq, int32_t from_pos) {
  auto& s = cache_.at(static_cast<size_t>(seq));
  if (static_cast<size_t>(from_pos) < s.size()) s.resize(static_cast<size_t>(from_pos));
}

int32_t FakeEngine::sequence_length(int32_t seq) const {
  return static_cast<int32_t>(cache_.at(static_cast<size_t>(seq)).size());
}

std::span<const int32_t> FakeEngine::sequence_tokens(int32_t seq) const {
  return cache_.at(static_cast<size_t>(seq));
}

}  // namespace inference::test
