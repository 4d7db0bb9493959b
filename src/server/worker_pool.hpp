// server/worker_pool.hpp — a fixed set of threads that run the server's tasks: the token
// streams of generations, and (through HttpTaskQueue) the HTTP connections.
//
// Why not a thread per task: a bounded set of long-lived threads keeps the number of threads
// touching request memory (and so of glibc malloc arenas and stacks) fixed instead of starting
// and ending one per request. Tasks run in FIFO order, each on the worker that went idle last:
// the threads a server actually needs stay warm and the rest are never woken, so its resident
// memory (stacks, per-thread malloc caches) reflects its peak concurrency, not the pool's size.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace inference::server {

class WorkerPool {
 public:
  /// Starts `threads` (at least one) workers.
  explicit WorkerPool(size_t threads);
  /// stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Runs `task` on a worker (FIFO; the most recently idle worker takes it). The task must not
  /// throw.
  void post(std::function<void()> task);

  /// Runs the tasks already posted, then joins the workers; later posts are dropped. Idempotent.
  void stop();

  size_t size() const noexcept { return workers_.size(); }
  /// Workers waiting for a task right now.
  size_t idle();

 private:
  struct Worker {
    std::condition_variable wake;
    std::thread thread;
  };
  void loop(Worker& self);

  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
  std::vector<Worker*> idle_;  // a stack: the last to go idle is woken first
  bool stopping_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace inference::server
