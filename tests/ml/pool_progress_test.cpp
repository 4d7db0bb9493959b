// The worker pool's bound, error and cancellation behaviour, and the two progress renderings.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "inference/error.hpp"
#include "ml/progress.hpp"
#include "ml/worker_pool.hpp"

namespace inference::ml {
namespace {

TEST(WorkerPool, EveryItemOnceWithinTheBound) {
  std::vector<std::atomic<int>> seen(200);
  std::atomic<int> in_flight{0}, peak{0};
  parallel_for(Context::background(), seen.size(), 4, [&](size_t i) {
    const int now = ++in_flight;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::yield();
    ++seen[i];
    --in_flight;
  });
  for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
  EXPECT_LE(peak.load(), 4);
}

TEST(WorkerPool, FirstErrorStopsAndIsRethrown) {
  std::atomic<int> done{0};
  EXPECT_THROW(parallel_for(Context::background(), 1000, 2,
                            [&](size_t i) {
                              if (i == 5) throw Error(ErrorCode::backend, "boom");
                              ++done;
                            }),
               Error);
  EXPECT_LT(done.load(), 1000);
}

TEST(WorkerPool, CancelledContextHandsOutNothingMore) {
  auto ctx = Context::background().with_cancel();
  std::atomic<int> done{0};
  // Items after the cancelling one wait for the cancel: otherwise, on a loaded host, the other
  // workers may run through many items while the thread holding item 10 is descheduled before it
  // cancels (the test was flaky that way). Each worker then finishes the item it holds and takes
  // no other: items 0-10 and at most one more per other worker.
  parallel_for(ctx, 1000, 3, [&](size_t i) {
    if (i == 10) ctx.cancel();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (i > 10 && !ctx.cancelled() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ++done;
  });
  EXPECT_LE(done.load(), 13);
  parallel_for(Context::background(), 0, 4, [](size_t) { FAIL(); });
}

TEST(Progress, PlainLinesAndBar) {
  std::ostringstream plain;
  Progress p(&plain, "score", 10, 4, /*tty=*/false, std::chrono::milliseconds(0));
  p.advance(3);
  p.finish();
  EXPECT_NE(plain.str().find("score: 7/10"), std::string::npos);
  EXPECT_NE(plain.str().find("(done)"), std::string::npos);
  EXPECT_EQ(p.done(), 7u);

  std::ostringstream bar;
  Progress b(&bar, "classify", 4, 0, /*tty=*/true);
  b.advance(4);
  b.finish();
  EXPECT_NE(bar.str().find("\rclassify [##############################] 4/4"), std::string::npos);
  EXPECT_NE(bar.str().find("ETA"), std::string::npos);
  EXPECT_EQ(bar.str().back(), '\n');
}

}  // namespace
}  // namespace inference::ml
