// generation/sequence_state.hpp — everything one generating sequence owns, apart from the
// shared engine: its prompt and prefill progress, seeded sampler, logit bias, output
// constraint, stop matcher, UTF-8 assembler, logprobs, the tokens produced but not yet pulled,
// its metrics and why it ended.
//
// The BatchScheduler feeds it one logits row at a time (the row after its last fed token);
// on_logits() samples, queues the resulting Token and decides whether the sequence ends. Because
// a sequence only ever sees its own rows and its own Rng, its tokens do not depend on what else
// shares the batch.
//
// Ending: end-of-generation tokens (unless ignore_eos) and stop_tokens end the sequence and are
// not emitted; a stop string ends it after the text before the stop; max_tokens and a full
// context end it after that token; an output constraint that admits no further token ends it
// after that token (reason eos). Text still held back when an end token arrives (an incomplete
// character, or the possible start of a stop string that never completed) comes out as one final
// Token with id -1.
//
// Not thread-safe: the scheduler calls every member with its mutex held.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "engine/generation/logprobs.hpp"
#include "engine/generation/sampler.hpp"
#include "engine/generation/stop_matcher.hpp"
#include "engine/generation/token_constraint.hpp"
#include "engine/generation/utf8_assembler.hpp"
#include "inference/context.hpp"
#include "inference/types.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::generation {

/// Where a sequence is in its life. queued: waiting for a slot; prefilling: its prompt is being
/// evaluated chunk by chunk; decoding: one token per step; finished: ended (output may remain).
enum class SequencePhase { queued, prefilling, decoding, finished };

/// What the sequence does with the logits after its prompt.
enum class SequenceMode {
  generate,  ///< sample tokens until an end condition
  classify,  ///< one token after the prompt (and optionally its logits row), then end
};

class SequenceState {
 public:
  using Clock = std::chrono::steady_clock;

  /// Validates everything that does not need the engine's state: the prompt (non-empty, fits
  /// the context, ids in the vocabulary), the sampling config and logit_bias ids. Throws
  /// Error(invalid_argument) naming the fault. `constraint` is the compiled
  /// GenerateConfig::constraint (null for none).
  SequenceState(std::vector<int32_t> prompt, const GenerateConfig& config, Context ctx,
                SequenceMode mode, int32_t n_vocab, int32_t context_length,
                std::unique_ptr<TokenConstraint> constraint);
  /// The request's options (per-request adapter scales are read at admission).
  const GenerateConfig& config() const noexcept { return config_; }

  // ---- scheduling state, owned by the scheduler ----
  SequencePhase phase = SequencePhase::queued;
  int32_t slot = -1;          ///< KV-cache sequence while it holds one
  size_t prefilled = 0;       ///< prompt tokens in the cache so far
  bool closed = false;        ///< the consumer released the stream
  bool retired = false;       ///< finished and its slot returned
  uint64_t admitted_at = 0;   ///< admission order (prefill chunks go to earlier sequences first)
  CallbackRegistration wake;  ///< Context::on_done → wakes waiters (reset outside the lock)

  const std::vector<int32_t>& prompt() const noexcept { return prompt_; }
  const Context& context() const noexcept { return ctx_; }
  SequenceMode mode() const noexcept { return mode_; }
  /// The last sampled token, to be fed to the engine next (-1 before the first).
  int32_t pending() const noexcept { return pending_; }
  bool finished() const noexcept { return phase == SequencePhase::finished; }

  /// Got slot `seq`, whose cache already holds the first `cached` prompt tokens.
  void start(int32_t seq, size_t cached);
  /// Handles the logits row that follows the last fed token. `cache_len` is the number of cells
  /// the sequence holds in the cache now (the context-full check).
  void on_logits(std::span<const float> row, int32_t cache_len,
                 const tokenizer::Tokenizer& tokenizer);
  /// Ends the sequence. Cancellation and errors drop output not yet pulled; a normal end keeps it.
  void finish(FinishReason reason, const Status& status);
  /// Step wall time this sequence took part in.
  void add_prefill_time(Clock::duration d) { metrics_.prefill_duration += d; }
  void add_decode_time(Clock::duration d) { metrics_.decode_duration += d; }
  void set_memory(uint64_t active, uint64_t peak) {
    metrics_.active_memory_bytes = active;
    metrics_.peak_memory_bytes = peak;
  }

  /// Moves the oldest unpulled token into `out`.
  bool pop(Token& out);
  size_t queued_output() const noexcept { return output_.size(); }

  const Status& status() const noexcept { return status_; }
  /// Metrics so far (final once finished), with the per-second rates filled in.
  GenerateMetrics metrics() const;
  /// classify mode: the result (valid once finished).
  ClassifyResult& classify_result() noexcept { return classify_; }

 private:
  bool is_end_token(const tokenizer::Tokenizer& tokenizer, int32_t id, FinishReason& why) const;
  void classify_row(std::span<const float> row, const tokenizer::Tokenizer& tokenizer);
  void fill_logprobs(std::span<const float> row, const tokenizer::Tokenizer& tokenizer, int32_t id,
                     Token& out);
  std::span<const float> shaped(std::span<const float> row);  // bias + constraint mask
  void emit(Token token);
  std::string flush_text();

  std::vector<int32_t> prompt_;
  GenerateConfig config_;
  Context ctx_;
  SequenceMode mode_;
  int32_t context_length_;
  Sampler sampler_;
  LogprobCalculator logprobs_;
  std::vector<IdLogprob> top_;
  std::unique_ptr<TokenConstraint> constraint_;
  std::vector<float> work_;  // the biased / masked copy of a row (only when needed)
  Utf8Assembler utf8_;
  StopMatcher stop_;
  std::deque<Token> output_;
  int32_t pending_ = -1;
  Clock::time_point submitted_;
  bool first_token_ = true;
  GenerateMetrics metrics_;
  Status status_;
  ClassifyResult classify_;
};

/// Checks GenerateConfig::logit_bias against the vocabulary: invalid_argument naming the id.
Status validate_logit_bias(const GenerateConfig& config, int32_t n_vocab);

}  // namespace inference::generation
