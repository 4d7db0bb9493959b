#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "inference/context.hpp"

using namespace inference;
using namespace std::chrono_literals;

TEST(Context, BackgroundIsNeverDone) {
  auto ctx = Context::background();
  EXPECT_FALSE(ctx.cancelled());
  EXPECT_TRUE(ctx.status().ok());
  EXPECT_FALSE(ctx.deadline().has_value());
}

TEST(Context, CancelIsSeenByCopies) {
  auto ctx = Context::background().with_cancel();
  auto copy = ctx;
  ctx.cancel();
  EXPECT_TRUE(copy.cancelled());
  EXPECT_EQ(copy.status().code, ErrorCode::cancelled);
}

TEST(Context, ParentCancelPropagatesToDescendantsNotUp) {
  auto parent = Context::background().with_cancel();
  auto child = parent.with_cancel();
  auto grandchild = child.with_timeout(1h);
  auto sibling = parent.with_cancel();
  child.cancel();
  EXPECT_TRUE(child.cancelled());
  EXPECT_TRUE(grandchild.cancelled());
  EXPECT_FALSE(parent.cancelled());
  EXPECT_FALSE(sibling.cancelled());
  parent.cancel();
  EXPECT_TRUE(sibling.cancelled());
}

TEST(Context, ChildOfCancelledParentStartsCancelled) {
  auto parent = Context::background().with_cancel();
  parent.cancel();
  EXPECT_TRUE(parent.with_cancel().cancelled());
}

TEST(Context, DeadlineExpires) {
  auto ctx = Context::background().with_timeout(30ms);
  EXPECT_FALSE(ctx.cancelled());
  std::this_thread::sleep_for(60ms);
  EXPECT_TRUE(ctx.cancelled());
  EXPECT_EQ(ctx.status().code, ErrorCode::deadline_exceeded);
}

TEST(Context, ChildDeadlineNeverLaterThanParent) {
  auto parent = Context::background().with_timeout(10ms);
  auto child = parent.with_timeout(1h);
  ASSERT_TRUE(child.deadline().has_value());
  EXPECT_EQ(*child.deadline(), *parent.deadline());
}

TEST(Context, CancelFromAnotherThreadWakesSleeper) {
  auto root = Context::background().with_cancel();
  auto child = root.with_cancel();
  auto start = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(20ms);
    root.cancel();
  });
  bool full = child.sleep_for(10s);
  canceller.join();
  EXPECT_FALSE(full);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(child.cancelled());
}

TEST(Context, SleepStopsAtDeadline) {
  auto ctx = Context::background().with_timeout(20ms);
  EXPECT_FALSE(ctx.sleep_for(10s));
  EXPECT_EQ(ctx.status().code, ErrorCode::deadline_exceeded);
  EXPECT_TRUE(Context::background().sleep_for(1ms));
}

TEST(Context, ManyThreadsPollWhileOneCancels) {
  auto ctx = Context::background().with_cancel();
  std::atomic<int> saw{0};
  std::vector<std::thread> pollers;
  for (int i = 0; i < 4; ++i) {
    pollers.emplace_back([&, i] {
      auto mine = i % 2 ? ctx.with_cancel() : ctx;
      while (!mine.cancelled()) std::this_thread::yield();
      saw++;
    });
  }
  std::this_thread::sleep_for(5ms);
  ctx.cancel();
  for (auto& t : pollers) t.join();
  EXPECT_EQ(saw.load(), 4);
}

TEST(Context, OnDoneRunsWhenCancelled) {
  auto ctx = Context::background().with_cancel();
  std::atomic<int> calls{0};
  auto registration = ctx.on_done([&] { calls++; });
  EXPECT_EQ(calls.load(), 0);
  ctx.cancel();
  EXPECT_EQ(calls.load(), 1);
  ctx.cancel();  // runs once only
  EXPECT_EQ(calls.load(), 1);
}

TEST(Context, OnDoneRunsWhenAnAncestorIsCancelled) {
  auto parent = Context::background().with_cancel();
  auto child = parent.with_timeout(std::chrono::hours(1)).with_cancel();
  std::atomic<int> calls{0};
  auto registration = child.on_done([&] { calls++; });
  parent.cancel();
  EXPECT_EQ(calls.load(), 1);
}

TEST(Context, OnDoneRunsAtOnceWhenAlreadyDone) {
  auto ctx = Context::background().with_cancel();
  ctx.cancel();
  int calls = 0;
  auto registration = ctx.on_done([&] { calls++; });
  EXPECT_EQ(calls, 1);
}

TEST(Context, OnDoneRunsAtTheDeadline) {
  auto ctx = Context::background().with_timeout(30ms);
  std::mutex mutex;
  std::condition_variable cv;
  bool fired = false;
  auto registration = ctx.on_done([&] {
    std::lock_guard lock(mutex);
    fired = true;
    cv.notify_all();
  });
  std::unique_lock lock(mutex);
  // The callback wakes this wait; the 10 s bound only keeps a broken build from hanging.
  EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return fired; }));
}

TEST(Context, DestroyedRegistrationNeverRuns) {
  auto ctx = Context::background().with_cancel();
  std::atomic<int> calls{0};
  {
    auto registration = ctx.on_done([&] { calls++; });
  }
  ctx.cancel();
  EXPECT_EQ(calls.load(), 0);
  // The deadline must fall after the registration is gone (with 1 ms a loaded host let it fire
  // while the registration still existed, which rightly ran the callback).
  auto timed = Context::background().with_timeout(200ms);
  {
    auto registration = timed.on_done([&] { calls++; });
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.load(), 0);
}

TEST(Context, OnDoneFromManyThreads) {
  auto ctx = Context::background().with_cancel();
  std::atomic<int> calls{0};
  std::vector<std::thread> threads;
  std::vector<CallbackRegistration> registrations(8);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back(
        [&, i] { registrations[static_cast<size_t>(i)] = ctx.on_done([&] { calls++; }); });
  std::thread canceller([&] { ctx.cancel(); });
  for (auto& t : threads) t.join();
  canceller.join();
  EXPECT_EQ(calls.load(), 8);
}
