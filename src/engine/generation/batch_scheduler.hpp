// generation/batch_scheduler.hpp — continuous batching: many sequences, one Engine, one
// forward pass per step.
//
// Each step gathers the next token of every decoding sequence plus a token-budgeted chunk of
// pending prompt prefills (kPrefillChunk alone, kPrefillChunkWhileDecoding when streams are
// running, so a long prompt does not stall them), runs ONE Engine::decode, and hands each
// logits row to its SequenceState, which samples and queues its token. The weights are read
// once per step, not once per stream.
//
// No thread of its own: whoever pulls a stream drives the step when none is running (the
// engine runs with the scheduler's mutex released); other pullers wait on a condition variable
// and are woken when a step ends, a slot frees or their Context is done. A server may also run
// drive_once() in a thread of its own. A sequence whose consumer has not pulled its last
// kMaxReadAhead tokens sits steps out, so a stalled consumer costs nothing but its slot.
//
// Slots: the engine's KV-cache sequences. A new sequence waits in a FIFO queue until a slot
// frees; it then takes the free slot whose cached tokens share the longest prefix with its
// prompt (multi-turn chat does not re-prefill the conversation). Beyond max_queued waiting
// sequences submit() fails at once with ErrorCode::unavailable.
//
// Cancellation: a sequence whose Context is done or whose stream was closed leaves the batch
// at the next step boundary (within one step) and frees its slot.
//
// Engine ownership: the engine is touched only by the thread that set `driving_` (under the
// mutex), or by a thread holding the mutex while no one drives.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "engine/engine.hpp"
#include "engine/generation/sequence_state.hpp"
#include "inference/capabilities.hpp"
#include "inference/token_stream.hpp"

namespace inference::generation {

/// Compiles GenerateConfig::constraint (make_token_constraint unless a test substitutes one).
using ConstraintFactory = std::function<std::unique_ptr<TokenConstraint>(
    const OutputConstraint&, const tokenizer::Tokenizer&)>;

struct SchedulerOptions {
  int32_t max_queued = 0;                   ///< 0 = unbounded (LoadConfig::max_queued)
  size_t prefill_chunk = 0;                 ///< 0 = kPrefillChunk
  size_t prefill_chunk_while_decoding = 0;  ///< 0 = kPrefillChunkWhileDecoding
  ConstraintFactory make_constraint;        ///< empty = make_token_constraint
};

/// Tokens a sequence may have produced and not yet handed out before it skips steps.
inline constexpr size_t kMaxReadAhead = 4;

class BatchScheduler : public std::enable_shared_from_this<BatchScheduler> {
 public:
  using SequencePtr = std::shared_ptr<SequenceState>;

  BatchScheduler(std::unique_ptr<engine::Engine> engine, SchedulerOptions options = {});
  ~BatchScheduler();

  /// Queues a sequence. Throws Error: invalid_argument (prompt, config, logit_bias,
  /// constraint), unsupported (constraint), unavailable (closed, or the queue is full — unless
  /// `unbounded`, which batch_generate/classify use for their own items).
  SequencePtr submit(std::vector<int32_t> prompt, const GenerateConfig& config, const Context& ctx,
                     SequenceMode mode = SequenceMode::generate, bool unbounded = false);
  /// The stream that pulls `seq` (destroying it releases the sequence).
  TokenStream stream(SequencePtr seq);
  /// submit() wrapped as a TokenStream; errors become an ended stream.
  TokenStream generate(std::vector<int32_t> prompt, const GenerateConfig& config,
                       const Context& ctx);

  /// The next token of `seq`, driving steps as needed; false when it has ended.
  bool pull(SequenceState& seq, Token& out);
  /// The consumer let go of `seq`: it leaves the batch now (or when the running step ends).
  void release(const SequencePtr& seq);
  /// Drives steps until every sequence of `seqs` has ended, handing each produced token to
  /// `on_token(index, token)` (called without the mutex held).
  void run_all(std::span<const SequencePtr> seqs,
               const std::function<void(size_t, Token&)>& on_token);
  /// Runs one step if there is work and no one else is driving; returns whether it did. For a
  /// server's driver thread.
  bool drive_once();

  /// Exclusive use of the engine and a free slot (cleared first by the caller if it wants),
  /// for one-off work outside the batch (attention capture). Throws Error(unavailable) when
  /// closed or every slot is busy.
  void with_free_slot(const std::function<void(engine::Engine&, int32_t seq)>& work);

  /// Snapshot for metrics and /slots.
  ServingState serving_state() const;
  /// Metrics and status of the last finished sequence (TextModel::metrics()/err()).
  GenerateMetrics last_metrics() const;
  Status last_status() const;
  /// Metrics of `seq` so far.
  GenerateMetrics metrics_of(const SequenceState& seq) const;
  Status status_of(const SequenceState& seq) const;
  /// Bytes the engine held when a sequence last ended, and the peak so far.
  uint64_t memory_bytes() const;
  uint64_t peak_memory_bytes() const;
  /// Weight bytes one forward pass reads (0 once closed).
  uint64_t weight_bytes_per_token() const;

  /// Ends every sequence with unavailable and destroys the engine (after a running step).
  void close();
  bool closed() const;

 private:
  struct Participant {
    SequenceState* seq;
    size_t prefill_tokens;  // 0 = a decode entry
    int32_t cache_before;   // the sequence's cache length before the step (for rollback)
    bool has_row;
  };

  bool step_locked(std::unique_lock<std::mutex>& lock);
  void reap_locked();
  void admit_locked();
  void end_locked(SequenceState& seq, FinishReason reason, const Status& status);
  void prune_locked();
  void wait_idle_locked(std::unique_lock<std::mutex>& lock);
  void refresh_cache_len_locked(int32_t seq);
  int32_t choose_slot_locked(std::span<const int32_t> prompt) const;
  size_t free_slots_locked() const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<engine::Engine> engine_;  // null after close()
  SchedulerOptions options_;
  int32_t n_vocab_ = 0;
  int32_t context_length_ = 0;
  const tokenizer::Tokenizer* tokenizer_ = nullptr;
  std::vector<SequenceState*> slot_owner_;  // per slot: the holder, or null
  std::vector<bool> slot_reserved_;         // held by with_free_slot()
  std::vector<int32_t> cache_len_;          // per slot, for serving_state() without the engine
  std::deque<SequencePtr> queue_;           // waiting for a slot, FIFO
  std::vector<SequencePtr> active_;         // holding slots
  bool driving_ = false;
  uint64_t admissions_ = 0;
  uint64_t steps_ = 0;
  uint64_t step_tokens_ = 0;
  GenerateMetrics last_metrics_;
  Status last_status_;
  uint64_t peak_memory_ = 0;
  uint64_t last_memory_ = 0;
  // Step scratch, reused.
  std::vector<engine::BatchEntry> batch_;
  std::vector<Participant> participants_;
  std::vector<float> logits_;
};

/// Length of the common prefix of two token sequences.
size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b);

}  // namespace inference::generation
