// generation/generator.hpp — the TokenSource behind the native backend's streams.
//
// The first pull prefills the prompt (in chunks, reusing the slot's cached prefix, checking
// the Context between chunks); every later pull decodes the previous token and samples one
// more. Each pull takes the shared engine's mutex only for its own work, so several streams on
// different slots interleave token by token. Text: token pieces pass a Utf8Assembler (no split
// characters) and a StopMatcher (stop strings never emitted).
//
// Ending: end-of-generation tokens (unless ignore_eos) and stop_tokens end the stream and are
// not emitted; a stop string ends it after the text before the stop; max_tokens and a full
// context end it after that token. Text still held back when an end token arrives (an
// incomplete character, or the possible start of a stop string that never completed) comes
// out as one final Token with id -1.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/generation/logprobs.hpp"
#include "engine/generation/sampler.hpp"
#include "engine/generation/shared_engine.hpp"
#include "engine/generation/stop_matcher.hpp"
#include "engine/generation/utf8_assembler.hpp"
#include "inference/context.hpp"
#include "inference/token_stream.hpp"

namespace inference::generation {

class Generator final : public TokenSource {
 public:
  /// Construct with shared->mutex held. Throws Error(invalid_argument) for a bad config or
  /// prompt (empty, too long for the context, ids outside the vocabulary).
  Generator(std::shared_ptr<SharedEngine> shared, SlotLease slot, std::vector<int32_t> prompt,
            const GenerateConfig& config, Context ctx);
  ~Generator() override;

  bool next(Token& out) override;
  Status status() const override { return status_; }
  /// Counts and durations so far (final once the stream ended).
  GenerateMetrics metrics() const override { return metrics_; }

 private:
  bool step(engine::Engine& engine, Token& out);  // sample from logits_ and emit
  void decode_pending(engine::Engine& engine);
  bool is_stop_token(const engine::Engine& engine, int32_t id) const;
  void fill_logprobs(const engine::Engine& engine, int32_t id, Token& out);
  // Call with the mutex held. `reason` is used for an ok status (else derived from it).
  void finish(const Status& status, FinishReason reason = FinishReason::cancelled);

  std::shared_ptr<SharedEngine> shared_;
  SlotLease slot_;
  std::vector<int32_t> prompt_;
  GenerateConfig config_;
  Context ctx_;
  Sampler sampler_;
  LogprobCalculator logprobs_;
  std::vector<IdLogprob> top_;
  Utf8Assembler utf8_;
  StopMatcher stop_;
  std::vector<float> logits_;
  int32_t pending_ = -1;  // sampled and emitted, not yet decoded into the cache
  bool prefilled_ = false;
  bool finished_ = false;
  GenerateMetrics metrics_;
  Status status_;
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
};

}  // namespace inference::generation
