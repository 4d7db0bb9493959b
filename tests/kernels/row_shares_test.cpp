// RowShares: every row exactly once, in 16-row multiples, whichever thread is slow.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "kernels/cpu/row_shares.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::kernels::detail {
namespace {

struct Coverage {
  std::vector<std::atomic<int>> hits;
  std::vector<std::atomic<int64_t>> rows_by_thread;
  Coverage(int64_t rows, int threads)
      : hits(static_cast<size_t>(rows)), rows_by_thread(static_cast<size_t>(threads)) {}
};

// Runs one pool job over `rows` rows; thread `slow` sleeps in each of its ranges.
void cover(ThreadPool& pool, RowShares& shares, int64_t rows, size_t row_bytes, int slow,
           Coverage& c) {
  shares.reset(rows, row_bytes, pool.size());
  pool.run([&](int thread, int) {
    shares.for_each(thread, [&](int64_t r0, int64_t r1) {
      EXPECT_LT(r0, r1);
      EXPECT_EQ(r0 % 16, 0);
      EXPECT_TRUE(r1 % 16 == 0 || r1 == rows) << r1;
      for (int64_t r = r0; r < r1; ++r) c.hits[static_cast<size_t>(r)].fetch_add(1);
      c.rows_by_thread[static_cast<size_t>(thread)].fetch_add(r1 - r0);
      if (thread == slow) std::this_thread::sleep_for(std::chrono::microseconds(500));
    });
  });
}

TEST(RowShares, EveryRowOnceForAnyShape) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    RowShares shares;
    for (int64_t rows : {1, 15, 16, 17, 100, 512, 4096, 12345}) {
      for (size_t row_bytes : {size_t{18}, size_t{1152}, size_t{1} << 20}) {
        Coverage c(rows, n);
        cover(pool, shares, rows, row_bytes, -1, c);
        for (int64_t r = 0; r < rows; ++r) {
          ASSERT_EQ(c.hits[static_cast<size_t>(r)].load(), 1)
              << "row " << r << " of " << rows << ", " << n << " threads";
        }
      }
    }
  }
}

TEST(RowShares, FastThreadsTakeTheSlowThreadsRows) {
  // 2048 rows of 4 KiB: 128 units in chunks of one unit (64 KiB), 64 per thread to start with.
  // Thread 1 sleeps 500 µs per chunk; thread 0 must take most of its share.
  ThreadPool pool(2);
  RowShares shares;
  Coverage c(2048, 2);
  cover(pool, shares, 2048, 4096, 1, c);
  for (auto& h : c.hits) ASSERT_EQ(h.load(), 1);
  EXPECT_GT(c.rows_by_thread[0].load(), 1024 + 512) << "thread 0 stole too little";
}

TEST(RowShares, ThreadsPastTheLimitTakeNothing) {
  const int n = RowShares::kMaxThreads + 2;
  ThreadPool pool(n);
  RowShares shares;
  Coverage c(5000, n);
  cover(pool, shares, 5000, 64, -1, c);
  for (auto& h : c.hits) ASSERT_EQ(h.load(), 1);
  EXPECT_EQ(c.rows_by_thread[static_cast<size_t>(n - 1)].load(), 0);
}

}  // namespace
}  // namespace inference::kernels::detail
