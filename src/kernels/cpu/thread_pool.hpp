// kernels/cpu/thread_pool.hpp — a persistent pool of worker threads for the kernels.
//
// Workers are created once and spin briefly, then sleep, between jobs, so a parallel_for per
// matmul costs microseconds, not a thread start. parallel_for runs on the calling thread too
// (thread 0). No allocation per call. One job at a time: calls from several threads are
// serialised.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace inference::kernels {

class ThreadPool {
 public:
  /// n_threads total including the caller; 0 = one per physical core (at least 1).
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const noexcept;

  /// Calls fn(thread_index, n_threads) once on every thread of the pool (the caller is index 0)
  /// and returns when all have returned. fn must not throw.
  void run(const std::function<void(int thread, int n_threads)>& fn);

  /// Splits [0, n) into contiguous chunks, roughly equal, one per thread:
  /// fn(begin, end) for each non-empty chunk.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Physical cores of this machine (best effort; at least 1).
int physical_core_count() noexcept;

}  // namespace inference::kernels
