#include "engine/generation/prefill.hpp"

#include <algorithm>
#include <string>

#include "engine/generation/shared_engine.hpp"
#include "inference/error.hpp"

namespace inference::generation {

void check_prompt(const engine::Engine& engine, std::span<const int32_t> tokens) {
  if (tokens.empty())
    throw Error(ErrorCode::invalid_argument, "the prompt is empty (it encodes to no tokens)");
  const auto n = static_cast<int64_t>(tokens.size());
  if (n >= engine.context_length())
    throw Error(ErrorCode::invalid_argument,
                "the prompt has " + std::to_string(n) + " tokens but the context holds " +
                    std::to_string(engine.context_length()) +
                    " (leave room for the reply, or load with a larger context length)");
  for (int32_t id : tokens) {
    if (id < 0 || id >= engine.n_vocab())
      throw Error(ErrorCode::invalid_argument, "prompt token id " + std::to_string(id) +
                                                   " is outside the vocabulary [0, " +
                                                   std::to_string(engine.n_vocab()) + ")");
  }
}

size_t prefill_sequence(engine::Engine& engine, const Context& ctx, int32_t seq,
                        std::span<const int32_t> tokens, std::vector<float>& logits) {
  check_prompt(engine, tokens);
  size_t reused = common_prefix(engine.sequence_tokens(seq), tokens);
  reused = std::min(reused, tokens.size() - 1);  // the last token must run to give logits
  engine.truncate_sequence(seq, static_cast<int32_t>(reused));
  // A sliding-window model may have to drop more than asked (see Engine::truncate_sequence).
  reused = static_cast<size_t>(engine.sequence_length(seq));

  std::vector<engine::BatchEntry> batch;
  batch.reserve(std::min(kPrefillChunk, tokens.size() - reused));
  for (size_t start = reused; start < tokens.size(); start += kPrefillChunk) {
    if (Status s = ctx.status(); !s.ok()) throw Error(s);
    const size_t end = std::min(tokens.size(), start + kPrefillChunk);
    batch.clear();
    for (size_t i = start; i < end; ++i)
      batch.push_back({tokens[i], static_cast<int32_t>(i), seq, i + 1 == tokens.size()});
    try {
      engine.decode(ctx, batch, logits);
    } catch (...) {
      // Leave the cache holding a consistent prefix of the prompt (what was fully decoded).
      engine.truncate_sequence(seq, static_cast<int32_t>(start));
      throw;
    }
  }
  return reused;
}

}  // namespace inference::generation
