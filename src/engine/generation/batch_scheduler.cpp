#include "engine/generation/batch_scheduler.hpp"

#include <algorithm>
#include <new>
#include <string>
#include <utility>

#include "engine/generation/prefill.hpp"
#include "inference/error.hpp"

namespace inference::generation {
namespace {

using Clock = std::chrono::steady_clock;

FinishReason reason_for_context(const Status& status) {
  return status.code == ErrorCode::deadline_exceeded ? FinishReason::deadline
                                                     : FinishReason::cancelled;
}

const Status& closed_status() {
  static const Status status{ErrorCode::unavailable,
                             "the model was closed while a stream was open"};
  return status;
}

// The TokenSource behind a scheduled stream: pulling drives the scheduler; destroying it lets
// go of the sequence (and its slot).
class ScheduledSource final : public TokenSource {
 public:
  ScheduledSource(std::shared_ptr<BatchScheduler> scheduler, std::shared_ptr<SequenceState> seq)
      : scheduler_(std::move(scheduler)), seq_(std::move(seq)) {}
  ~ScheduledSource() override { scheduler_->release(seq_); }
  bool next(Token& out) override { return scheduler_->pull(*seq_, out); }
  Status status() const override { return scheduler_->status_of(*seq_); }
  GenerateMetrics metrics() const override { return scheduler_->metrics_of(*seq_); }

 private:
  std::shared_ptr<BatchScheduler> scheduler_;
  std::shared_ptr<SequenceState> seq_;
};

}  // namespace

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

BatchScheduler::BatchScheduler(std::unique_ptr<engine::Engine> engine, SchedulerOptions options)
    : engine_(std::move(engine)), options_(options) {
  if (!engine_) throw Error(ErrorCode::invalid_argument, "BatchScheduler: no engine");
  if (options_.prefill_chunk == 0) options_.prefill_chunk = kPrefillChunk;
  if (options_.prefill_chunk_while_decoding == 0)
    options_.prefill_chunk_while_decoding = kPrefillChunkWhileDecoding;
  if (options_.max_queued < 0)
    throw Error(ErrorCode::invalid_argument,
                "max_queued must be >= 0, got " + std::to_string(options_.max_queued));
  n_vocab_ = engine_->n_vocab();
  context_length_ = engine_->context_length();
  tokenizer_ = &engine_->tokenizer();
  const auto slots = static_cast<size_t>(std::max(engine_->n_sequences(), 1));
  slot_owner_.assign(slots, nullptr);
  slot_reserved_.assign(slots, false);
  cache_len_.assign(slots, 0);
  for (size_t i = 0; i < slots; ++i) refresh_cache_len_locked(static_cast<int32_t>(i));
  last_memory_ = peak_memory_ = engine_->memory_bytes();
}

BatchScheduler::~BatchScheduler() {
  close();
}

BatchScheduler::SequencePtr BatchScheduler::submit(std::vector<int32_t> prompt,
                                                   const GenerateConfig& config, const Context& ctx,
                                                   SequenceMode mode, bool unbounded) {
  const tokenizer::Tokenizer* tokenizer = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!engine_) throw Error(ErrorCode::unavailable, "the model was closed");
    tokenizer = tokenizer_;
  }
  // Validation and constraint compilation (possibly slow) run without the lock.
  check_prompt(prompt, n_vocab_, context_length_);
  std::unique_ptr<TokenConstraint> constraint;
  if (mode == SequenceMode::generate && config.constraint.kind != OutputConstraint::Kind::none)
    constraint = options_.make_constraint ? options_.make_constraint(config.constraint, *tokenizer)
                                          : make_token_constraint(config.constraint, *tokenizer);
  auto seq = std::make_shared<SequenceState>(std::move(prompt), config, ctx, mode, n_vocab_,
                                             context_length_, std::move(constraint));
  // Registered before taking the lock: a context that is already done runs it at once, here.
  seq->wake = ctx.on_done([this] {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  });
  std::lock_guard lock(mu_);
  if (!engine_) throw Error(ErrorCode::unavailable, "the model was closed");
  if (config.adapter_scales.size() > static_cast<size_t>(engine_->n_adapters())) {
    throw Error(ErrorCode::invalid_argument,
                "adapter_scales: " + std::to_string(config.adapter_scales.size()) + " scales for " +
                    std::to_string(engine_->n_adapters()) + " unmerged LoRA adapter(s)");
  }
  const size_t free = free_slots_locked();
  const size_t waiting = queue_.size() + 1 > free ? queue_.size() + 1 - free : 0;
  if (!unbounded && options_.max_queued > 0 && waiting > static_cast<size_t>(options_.max_queued))
    throw Error(ErrorCode::unavailable,
                "all " + std::to_string(slot_owner_.size()) + " sequence slots are busy and " +
                    std::to_string(queue_.size()) + " calls are already waiting (max_queued " +
                    std::to_string(options_.max_queued) + "); retry later");
  queue_.push_back(seq);
  return seq;
}

TokenStream BatchScheduler::stream(SequencePtr seq) {
  return TokenStream(std::make_unique<ScheduledSource>(shared_from_this(), std::move(seq)));
}

TokenStream BatchScheduler::generate(std::vector<int32_t> prompt, const GenerateConfig& config,
                                     const Context& ctx) {
  try {
    return stream(submit(std::move(prompt), config, ctx));
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

bool BatchScheduler::pull(SequenceState& seq, Token& out) {
  std::unique_lock lock(mu_);
  while (true) {
    if (!driving_) reap_locked();
    if (seq.finished()) return seq.pop(out);  // a normal end keeps what was produced
    // A cancelled sequence still in a running step hands out nothing more.
    if (!seq.context().cancelled() && seq.pop(out)) {
      // It may have been sitting steps out at the read-ahead limit: let a driver take it again.
      if (seq.queued_output() + 1 == kMaxReadAhead) cv_.notify_all();
      return true;
    }
    if (!driving_ && step_locked(lock)) continue;
    cv_.wait(lock);
  }
}

void BatchScheduler::release(const SequencePtr& seq) {
  {
    std::unique_lock lock(mu_);
    seq->closed = true;
    if (!seq->finished()) {
      wait_idle_locked(lock);
      // The consumer stopped early of its own accord: a normal end (ok), reason cancelled.
      end_locked(*seq, FinishReason::cancelled, {});
      prune_locked();
      cv_.notify_all();
    }
  }
  seq->wake.reset();  // outside the lock: it waits for a running callback, which locks
}

void BatchScheduler::run_all(std::span<const SequencePtr> seqs,
                             const std::function<void(size_t, Token&)>& on_token) {
  std::vector<std::pair<size_t, Token>> ready;
  std::unique_lock lock(mu_);
  while (true) {
    if (!driving_) reap_locked();
    bool all_done = true;
    for (size_t i = 0; i < seqs.size(); ++i) {
      Token t;
      while (seqs[i]->pop(t)) ready.emplace_back(i, std::move(t));
      if (!seqs[i]->finished()) all_done = false;
    }
    if (!ready.empty()) {
      lock.unlock();
      for (auto& [i, t] : ready) on_token(i, t);
      ready.clear();
      lock.lock();
      continue;
    }
    if (all_done) return;
    if (!driving_ && step_locked(lock)) continue;
    cv_.wait(lock);
  }
}

bool BatchScheduler::drive_once() {
  std::unique_lock lock(mu_);
  if (driving_) return false;
  reap_locked();
  return step_locked(lock);
}

void BatchScheduler::with_free_slot(const std::function<void(engine::Engine&, int32_t seq)>& work) {
  std::unique_lock lock(mu_);
  wait_idle_locked(lock);
  if (!engine_) throw Error(ErrorCode::unavailable, "the model was closed");
  const int32_t slot = choose_slot_locked({});
  if (slot < 0) throw Error(ErrorCode::unavailable, "all sequence slots are busy");
  slot_reserved_[static_cast<size_t>(slot)] = true;
  driving_ = true;
  lock.unlock();
  auto done = [&] {
    lock.lock();
    driving_ = false;
    slot_reserved_[static_cast<size_t>(slot)] = false;
    refresh_cache_len_locked(slot);
    cv_.notify_all();
  };
  try {
    work(*engine_, slot);
  } catch (...) {
    done();
    throw;
  }
  done();
}

ServingState BatchScheduler::serving_state() const {
  std::lock_guard lock(mu_);
  ServingState s;
  s.slots.reserve(slot_owner_.size());
  for (size_t i = 0; i < slot_owner_.size(); ++i) {
    SlotState slot;
    slot.id = static_cast<int32_t>(i);
    slot.is_processing = slot_owner_[i] != nullptr || slot_reserved_[i];
    slot.n_ctx_used = cache_len_[i];
    slot.n_ctx = context_length_;
    s.kv_cells_used += slot.n_ctx_used;
    s.kv_cells_total += slot.n_ctx;
    s.slots.push_back(slot);
  }
  s.queued = static_cast<int64_t>(queue_.size());
  s.active = static_cast<int64_t>(active_.size());
  s.steps = steps_;
  s.step_tokens = step_tokens_;
  return s;
}

GenerateMetrics BatchScheduler::last_metrics() const {
  std::lock_guard lock(mu_);
  return last_metrics_;
}

Status BatchScheduler::last_status() const {
  std::lock_guard lock(mu_);
  return last_status_;
}

GenerateMetrics BatchScheduler::metrics_of(const SequenceState& seq) const {
  std::lock_guard lock(mu_);
  return seq.metrics();
}

Status BatchScheduler::status_of(const SequenceState& seq) const {
  std::lock_guard lock(mu_);
  return seq.status();
}

uint64_t BatchScheduler::memory_bytes() const {
  std::lock_guard lock(mu_);
  return engine_ ? last_memory_ : 0;
}

uint64_t BatchScheduler::weight_bytes_per_token() const {
  std::lock_guard lock(mu_);
  return engine_ ? engine_->weight_bytes_per_token() : 0;
}

uint64_t BatchScheduler::peak_memory_bytes() const {
  std::lock_guard lock(mu_);
  return peak_memory_;
}

void BatchScheduler::close() {
  std::unique_lock lock(mu_);
  wait_idle_locked(lock);
  if (!engine_) return;
  for (auto& seq : queue_) end_locked(*seq, FinishReason::error, closed_status());
  for (auto& seq : active_) end_locked(*seq, FinishReason::error, closed_status());
  prune_locked();
  engine_.reset();
  tokenizer_ = nullptr;
  cv_.notify_all();
}

bool BatchScheduler::closed() const {
  std::lock_guard lock(mu_);
  return engine_ == nullptr;
}

// ---- private: everything below runs with mu_ held ----

void BatchScheduler::wait_idle_locked(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !driving_; });
}

size_t BatchScheduler::free_slots_locked() const {
  size_t n = 0;
  for (size_t i = 0; i < slot_owner_.size(); ++i)
    if (!slot_owner_[i] && !slot_reserved_[i]) ++n;
  return n;
}

void BatchScheduler::refresh_cache_len_locked(int32_t seq) {
  if (engine_) cache_len_[static_cast<size_t>(seq)] = engine_->sequence_length(seq);
}

int32_t BatchScheduler::choose_slot_locked(std::span<const int32_t> prompt) const {
  int32_t best = -1;
  size_t best_prefix = 0;
  size_t best_cached = 0;
  for (size_t i = 0; i < slot_owner_.size(); ++i) {
    if (slot_owner_[i] || slot_reserved_[i]) continue;
    const auto cached = engine_->sequence_tokens(static_cast<int32_t>(i));
    const size_t prefix = common_prefix(cached, prompt);
    // Longest reusable prefix first; on a tie, the slot holding least, so that another
    // conversation's cache survives as long as an emptier slot is free.
    if (best < 0 || prefix > best_prefix ||
        (prefix == best_prefix && cached.size() < best_cached)) {
      best = static_cast<int32_t>(i);
      best_prefix = prefix;
      best_cached = cached.size();
    }
  }
  return best;
}

void BatchScheduler::end_locked(SequenceState& seq, FinishReason reason, const Status& status) {
  seq.finish(reason, status);
  if (seq.retired) return;
  seq.retired = true;
  if (seq.slot >= 0) {
    slot_owner_[static_cast<size_t>(seq.slot)] = nullptr;
    refresh_cache_len_locked(seq.slot);
  }
  if (engine_) last_memory_ = engine_->memory_bytes();
  peak_memory_ = std::max(peak_memory_, last_memory_);
  seq.set_memory(last_memory_, peak_memory_);
  last_metrics_ = seq.metrics();
  last_status_ = seq.status();
}

void BatchScheduler::prune_locked() {
  std::erase_if(queue_, [](const SequencePtr& s) { return s->finished(); });
  std::erase_if(active_, [](const SequencePtr& s) { return s->finished(); });
}

void BatchScheduler::reap_locked() {
  bool any = false;
  auto check = [&](SequenceState& seq) {
    if (seq.finished()) return;
    if (seq.closed) {
      end_locked(seq, FinishReason::cancelled, {});
      any = true;
    } else if (seq.context().cancelled()) {
      const Status s = seq.context().status();
      end_locked(seq, reason_for_context(s), s);
      any = true;
    }
  };
  for (auto& seq : queue_) check(*seq);
  for (auto& seq : active_) check(*seq);
  if (any) {
    prune_locked();
    cv_.notify_all();
  }
}

void BatchScheduler::admit_locked() {
  while (!queue_.empty()) {
    SequencePtr seq = queue_.front();
    const auto& prompt = seq->prompt();
    const int32_t slot = choose_slot_locked(prompt);
    if (slot < 0) return;
    queue_.pop_front();
    // This request's adapter scales (a change drops the slot's cache: it was computed with
    // other ones).
    if (engine_->n_adapters() > 0) engine_->set_adapter_scales(slot, seq->config().adapter_scales);
    // Keep the longest cached prefix; at least the last prompt token must run to give logits.
    size_t reused = common_prefix(engine_->sequence_tokens(slot), prompt);
    reused = std::min(reused, prompt.size() - 1);
    engine_->truncate_sequence(slot, static_cast<int32_t>(reused));
    // A sliding-window model may have to drop more than asked (see Engine::truncate_sequence).
    reused = static_cast<size_t>(engine_->sequence_length(slot));
    refresh_cache_len_locked(slot);
    seq->start(slot, reused);
    seq->admitted_at = admissions_++;
    slot_owner_[static_cast<size_t>(slot)] = seq.get();
    active_.push_back(std::move(seq));
  }
}

bool BatchScheduler::step_locked(std::unique_lock<std::mutex>& lock) {
  if (!engine_) return false;
  reap_locked();
  admit_locked();
  batch_.clear();
  participants_.clear();

  // Every decoding sequence whose consumer keeps up contributes its next token.
  for (const auto& sp : active_) {
    SequenceState& s = *sp;
    if (s.phase != SequencePhase::decoding || s.queued_output() >= kMaxReadAhead) continue;
    const int32_t pos = cache_len_[static_cast<size_t>(s.slot)];
    batch_.push_back({s.pending(), pos, s.slot, true, engine::RowKind::generated});
    participants_.push_back({&s, 0, pos, true});
  }
  // Then prompt chunks, oldest admission first, within the step's token budget.
  size_t budget = batch_.empty() ? options_.prefill_chunk : options_.prefill_chunk_while_decoding;
  for (const auto& sp : active_) {
    if (budget == 0) break;
    SequenceState& s = *sp;
    if (s.phase != SequencePhase::prefilling) continue;
    const auto& prompt = s.prompt();
    const size_t n = std::min(budget, prompt.size() - s.prefilled);
    for (size_t i = s.prefilled; i < s.prefilled + n; ++i)
      batch_.push_back({prompt[i], static_cast<int32_t>(i), s.slot, i + 1 == prompt.size(),
                        engine::RowKind::prompt});
    participants_.push_back(
        {&s, n, static_cast<int32_t>(s.prefilled), s.prefilled + n == prompt.size()});
    budget -= n;
  }
  if (batch_.empty()) return false;

  driving_ = true;
  ++steps_;
  step_tokens_ += batch_.size();
  lock.unlock();
  Status failure;
  const auto start = Clock::now();
  try {
    // Cancellation is per sequence, between steps; the batch itself always completes.
    engine_->decode(Context::background(), batch_, logits_);
  } catch (const Error& e) {
    failure = e.status();
  } catch (const std::bad_alloc&) {
    failure = {ErrorCode::out_of_memory, "out of memory while generating"};
  } catch (const std::exception& e) {
    failure = {ErrorCode::backend, e.what()};
  }
  const auto elapsed = Clock::now() - start;
  lock.lock();
  driving_ = false;

  if (!failure.ok()) {
    for (const auto& p : participants_) {
      // Keep each cache holding what it held before the step, consistent for reuse.
      engine_->truncate_sequence(p.seq->slot, p.cache_before);
      end_locked(*p.seq, FinishReason::error, failure);
    }
  } else {
    const auto n_vocab = static_cast<size_t>(n_vocab_);
    size_t row = 0;
    for (const auto& p : participants_) {
      SequenceState& s = *p.seq;
      refresh_cache_len_locked(s.slot);
      if (p.prefill_tokens > 0) {
        s.prefilled += p.prefill_tokens;
        s.add_prefill_time(elapsed);
        if (!p.has_row) continue;
        s.phase = SequencePhase::decoding;
      } else {
        s.add_decode_time(elapsed);
      }
      const auto logits = std::span<const float>(logits_).subspan(row * n_vocab, n_vocab);
      ++row;
      try {
        // Sampling runs the sequence's output constraint, which can refuse (a grammar too
        // ambiguous to follow): that ends this sequence with its error, not the batch.
        s.on_logits(logits, cache_len_[static_cast<size_t>(s.slot)], *tokenizer_);
      } catch (const Error& e) {
        end_locked(s, FinishReason::error, e.status());
      } catch (const std::bad_alloc&) {
        end_locked(s, FinishReason::error,
                   {ErrorCode::out_of_memory, "out of memory while sampling"});
      }
      if (s.finished()) end_locked(s, FinishReason::none, {});
    }
  }
  prune_locked();
  cv_.notify_all();
  return true;
}

}  // namespace inference::generation
