// WorkerPool: FIFO tasks, the most recently idle worker takes the next one (so a server's
// sequential load stays on one warm thread), concurrent tasks get distinct threads, and stop()
// runs what was posted before it and drops what comes after.
#include "server/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace inference::server {
namespace {

// Waits (bounded) until every worker of the pool is idle.
bool all_idle(WorkerPool& pool) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.idle() < pool.size()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

TEST(WorkerPool, SequentialTasksStayOnOneWarmThread) {
  WorkerPool pool(8);
  std::set<std::thread::id> used;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(all_idle(pool));  // the last task's worker is back on the idle stack's top
    std::promise<std::thread::id> done;
    auto id = done.get_future();
    pool.post([&done] { done.set_value(std::this_thread::get_id()); });
    used.insert(id.get());
  }
  EXPECT_EQ(used.size(), 1u);
}

TEST(WorkerPool, ConcurrentTasksRunOnDistinctThreads) {
  WorkerPool pool(8);
  constexpr int kTasks = 4;
  std::mutex m;
  std::set<std::thread::id> ids;
  std::atomic<int> arrived{0};
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  std::vector<std::future<void>> finished;
  for (int i = 0; i < kTasks; ++i) {
    auto p = std::make_shared<std::promise<void>>();
    finished.push_back(p->get_future());
    pool.post([&, p, go] {
      {
        std::lock_guard lock(m);
        ids.insert(std::this_thread::get_id());
      }
      ++arrived;
      go.wait();
      p->set_value();
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (arrived < kTasks && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(arrived.load(), kTasks);  // all four ran at once: none waited for another
  release.set_value();
  for (auto& f : finished) f.wait();
  EXPECT_EQ(ids.size(), static_cast<size_t>(kTasks));
}

TEST(WorkerPool, FifoOrderAndStopRunsWhatWasPosted) {
  std::vector<int> order;
  {
    WorkerPool pool(1);
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    pool.post([open] { open.wait(); });  // holds the one worker while the rest queue up
    for (int i = 0; i < 20; ++i) pool.post([&order, i] { order.push_back(i); });
    gate.set_value();
    pool.stop();
    pool.stop();                                   // idempotent
    pool.post([&order] { order.push_back(-1); });  // after stop: dropped
  }
  ASSERT_EQ(order.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
}

}  // namespace
}  // namespace inference::server
