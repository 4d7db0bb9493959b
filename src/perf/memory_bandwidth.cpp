// perf/memory_bandwidth.cpp — see memory_bandwidth.hpp.
#include "perf/memory_bandwidth.hpp"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "inference/error.hpp"

namespace inference::perf {

namespace {

// Four independent accumulators let the compiler keep several vector loads in flight.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
  }
  for (; i < n; ++i) a0 += p[i];
  return a0 ^ a1 ^ a2 ^ a3;
}

}  // namespace

BandwidthResult measure_read_bandwidth(int threads, uint64_t buffer_bytes, int runs) {
  if (threads < 1 || runs < 1 || buffer_bytes < (uint64_t{1} << 20)) {
    throw Error(ErrorCode::invalid_argument,
                "bandwidth measurement needs >= 1 thread, >= 1 run and a buffer of >= 1 MiB");
  }
  const size_t words = buffer_bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buffer(new (std::nothrow) uint64_t[words]);
  if (!buffer) {
    throw Error(ErrorCode::out_of_memory, "cannot allocate " + std::to_string(buffer_bytes >> 20) +
                                              " MiB for the bandwidth measurement");
  }
  std::vector<double> seconds(static_cast<size_t>(runs));
  std::vector<uint64_t> sinks(static_cast<size_t>(threads));
  std::barrier sync(threads);
  auto worker = [&](int t) {
    const size_t begin = words * static_cast<size_t>(t) / static_cast<size_t>(threads);
    const size_t end = words * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
    // Non-zero data written by the thread that reads it: untouched pages would all map the
    // shared zero page and be read from cache.
    for (size_t i = begin; i < end; ++i) buffer.get()[i] = i * 0x9e3779b97f4a7c15ull + 1;
    for (int r = 0; r < runs; ++r) {
      sync.arrive_and_wait();
      const auto start = std::chrono::steady_clock::now();
      sinks[static_cast<size_t>(t)] += sum_words(buffer.get() + begin, end - begin);
      sync.arrive_and_wait();
      if (t == 0) {
        seconds[static_cast<size_t>(r)] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  // Keep the sums observable so the reads are not dead code.
  volatile uint64_t keep = 0;
  for (auto s : sinks) keep = keep + s;

  BandwidthResult result;
  result.threads = threads;
  result.buffer_bytes = words * sizeof(uint64_t);
  result.runs = runs;
  double total = 0;
  for (double s : seconds) {
    const double gbs = static_cast<double>(result.buffer_bytes) / s / 1e9;
    result.gb_per_second = std::max(result.gb_per_second, gbs);
    total += gbs;
  }
  result.mean_gb_per_second = total / runs;
  return result;
}

}  // namespace inference::perf
