#include "server/worker_pool.hpp"

#include <algorithm>

namespace inference::server {

WorkerPool::WorkerPool(size_t threads) {
  const size_t n = std::max<size_t>(threads, 1);
  workers_.reserve(n);
  for (size_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
  for (auto& w : workers_) w->thread = std::thread([this, worker = w.get()] { loop(*worker); });
}

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& w : workers_) w->wake.notify_one();
  }
  for (auto& w : workers_) w->thread.join();
}

size_t WorkerPool::idle() {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

void WorkerPool::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  tasks_.push_back(std::move(task));
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->wake.notify_one();
  }
}

void WorkerPool::loop(Worker& self) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!tasks_.empty()) {
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (stopping_) return;  // nothing left to run
    // Idle: on the stack until a post (or stop) wakes this worker. A spurious or late wake-up
    // finds the queue empty and comes back here.
    if (std::find(idle_.begin(), idle_.end(), &self) == idle_.end()) idle_.push_back(&self);
    self.wake.wait(lock);
    const auto it = std::find(idle_.begin(), idle_.end(), &self);
    if (it != idle_.end()) idle_.erase(it);
  }
}

}  // namespace inference::server
