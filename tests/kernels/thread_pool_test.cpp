#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace inference::kernels {
namespace {

TEST(ThreadPool, RunCallsEveryIndexOnce) {
  for (int n : {1, 2, 4}) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.size(), n);
    for (int rep = 0; rep < 200; ++rep) {
      std::vector<std::atomic<int>> calls(static_cast<size_t>(n));
      pool.run([&](int thread, int n_threads) {
        EXPECT_EQ(n_threads, n);
        calls[static_cast<size_t>(thread)].fetch_add(1);
      });
      for (auto& c : calls) ASSERT_EQ(c.load(), 1);
    }
  }
}

TEST(ThreadPool, ParallelForCoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 3, 10, 1001}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      EXPECT_LT(b, e);
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, DefaultSizeIsPhysicalCores) {
  ThreadPool pool;
  EXPECT_EQ(pool.size(), physical_core_count());
  EXPECT_GE(physical_core_count(), 1);
}

TEST(ThreadPool, SurvivesIdleSleepAndWakes) {
  ThreadPool pool(2);
  std::atomic<int> sum{0};
  for (int rep = 0; rep < 3; ++rep) {
    pool.run([&](int thread, int) { sum.fetch_add(thread + 1); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers go to sleep
  }
  EXPECT_EQ(sum.load(), 9);
}

}  // namespace
}  // namespace inference::kernels
