#include "server/admission.hpp"

#include <algorithm>

namespace inference::server {

SlotPool::SlotPool(int32_t slots, int32_t max_queue) : max_queue_(std::max(0, max_queue)) {
  slots_.resize(static_cast<size_t>(std::max(1, slots)));
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].id = static_cast<int32_t>(i);
}

std::shared_ptr<SlotTicket> SlotPool::enqueue(int32_t need) {
  need = std::clamp(need, 1, size());
  std::lock_guard lock(mutex_);
  int32_t free = 0;
  for (const auto& s : slots_) free += s.is_processing ? 0 : 1;
  const bool now = queue_.empty() && free >= need;
  if (!now && static_cast<int32_t>(queue_.size()) >= max_queue_) return nullptr;
  std::shared_ptr<SlotTicket> ticket(new SlotTicket(shared_from_this(), need, next_task_++));
  queue_.push_back(ticket.get());
  grant_locked();
  return ticket;
}

void SlotPool::grant_locked() {
  bool any = false;
  while (!queue_.empty()) {
    SlotTicket* head = queue_.front();
    std::vector<int32_t> free;
    for (const auto& s : slots_)
      if (!s.is_processing) free.push_back(s.id);
    if (static_cast<int32_t>(free.size()) < head->need_) break;  // first come, first served
    free.resize(static_cast<size_t>(head->need_));
    for (int32_t id : free) {
      SlotSnapshot& s = slots_[static_cast<size_t>(id)];
      s = SlotSnapshot{.id = id, .is_processing = true, .task_id = head->task_id_};
    }
    head->granted_ = std::move(free);
    queue_.pop_front();
    any = true;
  }
  if (any) granted_cv_.notify_all();
}

void SlotPool::release(SlotTicket& ticket) {
  std::lock_guard lock(mutex_);
  if (ticket.released_) return;
  ticket.released_ = true;
  if (ticket.granted_.empty()) {
    queue_.erase(std::remove(queue_.begin(), queue_.end(), &ticket), queue_.end());
  } else {
    for (int32_t id : ticket.granted_) slots_[static_cast<size_t>(id)] = SlotSnapshot{.id = id};
  }
  grant_locked();  // the head may now fit (also when a queued ticket ahead of it left)
}

void SlotPool::update(int32_t slot, int64_t prompt_tokens, int64_t decoded_tokens,
                      int64_t max_tokens) {
  std::lock_guard lock(mutex_);
  if (slot < 0 || slot >= size()) return;
  SlotSnapshot& s = slots_[static_cast<size_t>(slot)];
  s.prompt_tokens = prompt_tokens;
  s.decoded_tokens = decoded_tokens;
  s.max_tokens = max_tokens;
}

std::vector<SlotSnapshot> SlotPool::snapshot() const {
  std::lock_guard lock(mutex_);
  return slots_;
}

int32_t SlotPool::busy() const {
  std::lock_guard lock(mutex_);
  return static_cast<int32_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const auto& s) { return s.is_processing; }));
}

int32_t SlotPool::queued() const {
  std::lock_guard lock(mutex_);
  return static_cast<int32_t>(queue_.size());
}

int64_t SlotPool::tokens_in_use() const {
  std::lock_guard lock(mutex_);
  int64_t total = 0;
  for (const auto& s : slots_)
    if (s.is_processing) total += s.prompt_tokens + s.decoded_tokens;
  return total;
}

SlotTicket::~SlotTicket() {
  release();
}

bool SlotTicket::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(pool_->mutex_);
  return pool_->granted_cv_.wait_for(lock, timeout,
                                     [&] { return !granted_.empty() || released_; }) &&
         !granted_.empty() && !released_;
}

std::vector<int32_t> SlotTicket::slots() const {
  std::lock_guard lock(pool_->mutex_);
  return released_ ? std::vector<int32_t>{} : granted_;
}

void SlotTicket::release() {
  pool_->release(*this);
}

}  // namespace inference::server
