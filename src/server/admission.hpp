// server/admission.hpp — the server's slots and its bounded wait queue.
//
// The server admits at most `slots` generations at once (the model's parallel sequences) and
// lets at most `max_queue` requests wait, first come first served; beyond that a request is
// refused at once (429 + Retry-After) rather than piling up. A request with n choices asks for
// min(n, slots) slots together, so two multi-choice requests can never deadlock each other
// holding half of what they need. Slots also carry what /slots and /metrics report.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace inference::server {

/// What one slot is doing, as /slots reports it.
struct SlotSnapshot {
  int32_t id = 0;
  bool is_processing = false;
  int64_t task_id = -1;        ///< the request holding it (-1 when idle)
  int64_t prompt_tokens = 0;   ///< of the choice running on it
  int64_t decoded_tokens = 0;  ///< generated so far
  int64_t max_tokens = 0;      ///< the choice's limit (0 = up to the context)
};

class SlotPool;

/// A request's place: queued until granted, then holding its slots until released or
/// destroyed. Thread-safe.
class SlotTicket {
 public:
  ~SlotTicket();
  SlotTicket(const SlotTicket&) = delete;
  SlotTicket& operator=(const SlotTicket&) = delete;

  /// Waits up to `timeout` for the slots; true once they are granted.
  bool wait(std::chrono::milliseconds timeout);
  /// The granted slot ids (empty while queued).
  std::vector<int32_t> slots() const;
  int64_t task_id() const noexcept { return task_id_; }
  /// Leaves the queue, or returns the slots. Idempotent.
  void release();

 private:
  friend class SlotPool;
  SlotTicket(std::shared_ptr<SlotPool> pool, int32_t need, int64_t task_id)
      : pool_(std::move(pool)), need_(need), task_id_(task_id) {}
  std::shared_ptr<SlotPool> pool_;
  int32_t need_;
  int64_t task_id_;
  std::vector<int32_t> granted_;  // guarded by the pool's mutex
  bool released_ = false;         // guarded by the pool's mutex
};

class SlotPool : public std::enable_shared_from_this<SlotPool> {
 public:
  /// Use make_shared: tickets keep the pool alive.
  SlotPool(int32_t slots, int32_t max_queue);

  /// A ticket for `need` slots (capped to the pool size): granted at once when the slots are
  /// free and nobody waits, else queued; nullptr when the queue is full.
  std::shared_ptr<SlotTicket> enqueue(int32_t need);

  /// Progress of the choice on `slot` (for /slots and the KV-use gauge).
  void update(int32_t slot, int64_t prompt_tokens, int64_t decoded_tokens, int64_t max_tokens);

  std::vector<SlotSnapshot> snapshot() const;
  int32_t size() const noexcept { return static_cast<int32_t>(slots_.size()); }
  int32_t busy() const;
  int32_t queued() const;
  int32_t max_queue() const noexcept { return max_queue_; }
  /// Tokens held by running choices (prompt + generated), summed over the slots.
  int64_t tokens_in_use() const;

 private:
  friend class SlotTicket;
  void grant_locked();  // hands free slots to the head of the queue
  void release(SlotTicket& ticket);

  mutable std::mutex mutex_;
  std::condition_variable granted_cv_;
  std::vector<SlotSnapshot> slots_;
  std::deque<SlotTicket*> queue_;
  int32_t max_queue_;
  int64_t next_task_ = 0;
};

}  // namespace inference::server
