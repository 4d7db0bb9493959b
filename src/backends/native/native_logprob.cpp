// LogprobModel for the native backend: the log-probability of given continuations, without
// sampling (perplexity, multiple choice, lm-eval-style scoring). One slot of the shared engine
// is borrowed for the call; requests run one after another on it and reuse the cached prefix
// of the previous request, so the choices of one question evaluate the question once.
#include <algorithm>

#include "backends/native/native_model.hpp"
#include "engine/generation/logprobs.hpp"
#include "engine/generation/prefill.hpp"
#include "engine/generation/sampler.hpp"
#include "inference/error.hpp"

namespace inference::native {
namespace {

// Scores one request on `seq`. The continuation's tokens are those after the longest common
// prefix of tokenize(context) and tokenize(context + continuation): the boundary the model
// sees when reading the whole text. With no BOS and an empty context, the first token has
// nothing to be conditioned on and is not scored.
ContinuationScore score_one(engine::Engine& engine, const Context& ctx, int32_t seq,
                            const ScoreRequest& request, generation::LogprobCalculator& lp) {
  const auto& tok = engine.tokenizer();
  const std::vector<int32_t> head = tok.encode(request.context, true, false);
  const std::vector<int32_t> full = tok.encode(request.context + request.continuation, true, false);
  ContinuationScore out;
  size_t first = generation::common_prefix(head, full);
  if (first == 0) first = 1;             // the first token of the text has no condition
  if (first >= full.size()) return out;  // empty continuation: log 1 = 0
  generation::check_prompt(engine, full);

  const size_t first_row = first - 1;  // the position whose logits predict full[first]
  size_t reused = generation::common_prefix(engine.sequence_tokens(seq), full);
  reused = std::min(reused, first_row);
  engine.truncate_sequence(seq, static_cast<int32_t>(reused));
  reused = static_cast<size_t>(engine.sequence_length(seq));  // sliding-window models

  const auto n_vocab = static_cast<size_t>(engine.n_vocab());
  std::vector<engine::BatchEntry> batch;
  std::vector<size_t> row_pos;  // sequence position of each logits row
  std::vector<float> logits;
  auto flush = [&] {
    if (batch.empty()) return;
    engine.decode(ctx, batch, logits);
    for (size_t r = 0; r < row_pos.size(); ++r) {
      const std::span<const float> row(logits.data() + r * n_vocab, n_vocab);
      const int32_t next = full[row_pos[r] + 1];
      lp.set_row(row);
      const float value = lp.logprob(next);
      out.tokens.push_back(next);
      out.logprobs.push_back(value);
      out.total += value;
      if (generation::argmax(row) != next) out.greedy = false;
    }
    batch.clear();
    row_pos.clear();
  };
  out.greedy = true;
  // The last token is never fed: nothing after it is scored.
  for (size_t i = reused; i + 1 < full.size(); ++i) {
    const bool want = i >= first_row;
    batch.push_back({full[i], static_cast<int32_t>(i), seq, want});
    if (want) row_pos.push_back(i);
    if (batch.size() >= generation::kPrefillChunk) flush();
  }
  flush();
  return out;
}

}  // namespace

std::vector<ContinuationScore> NativeModel::score_continuations(
    const Context& ctx, std::span<const ScoreRequest> requests) {
  std::vector<ContinuationScore> results(requests.size());
  // One free slot, outside the running batch, for the whole call.
  scheduler_->with_free_slot([&](engine::Engine& engine, int32_t seq) {
    generation::LogprobCalculator lp(engine.n_vocab());
    for (size_t i = 0; i < requests.size(); ++i) {
      try {
        if (Status s = ctx.status(); !s.ok()) throw Error(s);
        results[i] = score_one(engine, ctx, seq, requests[i], lp);
      } catch (const Error& e) {
        results[i] = {};
        results[i].status = e.status();
        // A half-fed sequence must not be reused as a prefix.
        engine.truncate_sequence(seq, 0);
        if (ctx.cancelled()) {
          for (size_t j = i + 1; j < requests.size(); ++j) results[j].status = e.status();
          break;
        }
      }
    }
  });
  return results;
}

}  // namespace inference::native
