// backends/remote/parallel_for.hpp — runs fn(0..n-1) on up to `workers` threads: classify and
// batch_generate keep that many requests in flight so a pool of servers works in parallel.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace inference::remote {

/// `fn` must not throw (callers record per-item errors).
template <typename Fn>
void parallel_for(size_t n, size_t workers, Fn&& fn) {
  workers = std::clamp<size_t>(workers, 1, std::max<size_t>(n, 1));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::jthread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
}

}  // namespace inference::remote
