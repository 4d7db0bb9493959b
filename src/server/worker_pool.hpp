// server/worker_pool.hpp — a fixed set of threads that pull the token streams of generations.
//
// Why not a thread per generation: a bounded set of long-lived threads keeps the number of
// threads touching request memory (and so of glibc malloc arenas and stacks) fixed instead of
// starting and ending one per request. One worker per slot is enough: a generation runs only
// on slots it holds, and returns them only after its tasks ended.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace inference::server {

class WorkerPool {
 public:
  /// Starts `threads` (at least one) workers.
  explicit WorkerPool(size_t threads);
  /// Runs the tasks already posted, then joins the workers.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Runs `task` on a worker (FIFO). The task must not throw.
  void post(std::function<void()> task);

  size_t size() const noexcept { return threads_.size(); }

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace inference::server
