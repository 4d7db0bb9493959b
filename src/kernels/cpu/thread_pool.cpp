// kernels/cpu/thread_pool.cpp — persistent workers woken per job through an atomic generation
// counter.
//
// A job is published by storing the callable and bumping `generation_`; workers spin on the
// counter for a short while (a decode step issues hundreds of jobs a few microseconds apart, so
// sleeping between them would cost more than the work), then block in atomic::wait. The caller
// runs share 0 itself and waits for `pending_` to drop to zero the same way.
#include "kernels/cpu/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define INFERENCE_CPU_RELAX() _mm_pause()
#else
#define INFERENCE_CPU_RELAX() std::this_thread::yield()
#endif

namespace inference::kernels {
namespace {

// Spin iterations before sleeping. 2e4 pauses is up to a millisecond: longer than the gap
// between kernels of one forward pass, far shorter than the gap between user requests.
constexpr int kSpinIterations = 20000;

// After this many pauses a spinning thread also yields, so that on a machine with more runnable
// threads than cores (parallel builds, several engines) the thread we wait for can run.
constexpr int kPureSpinIterations = 2000;

template <typename T>
void spin_then_wait(const std::atomic<T>& value, T old) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (value.load(std::memory_order_acquire) != old) return;
    INFERENCE_CPU_RELAX();
    if (i >= kPureSpinIterations) std::this_thread::yield();
  }
  while (value.load(std::memory_order_acquire) == old) value.wait(old, std::memory_order_acquire);
}

}  // namespace

struct ThreadPool::Impl {
  int n_threads = 1;
  std::vector<std::thread> workers;
  std::mutex submit;  // one job at a time
  // The current job: a type-erased callable, valid while pending_ > 0.
  const std::function<void(int, int)>* job = nullptr;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stop{false};

  void worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      spin_then_wait(generation, seen);
      seen = generation.load(std::memory_order_acquire);
      if (stop.load(std::memory_order_acquire)) return;
      (*job)(index, n_threads);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) pending.notify_one();
    }
  }
};

ThreadPool::ThreadPool(int n_threads) : impl_(std::make_unique<Impl>()) {
  if (n_threads <= 0) n_threads = physical_core_count();
  impl_->n_threads = std::max(1, n_threads);
  impl_->workers.reserve(static_cast<size_t>(impl_->n_threads - 1));
  for (int i = 1; i < impl_->n_threads; ++i) {
    impl_->workers.emplace_back([impl = impl_.get(), i] { impl->worker_loop(i); });
  }
}

ThreadPool::~ThreadPool() {
  impl_->stop.store(true, std::memory_order_release);
  impl_->generation.fetch_add(1, std::memory_order_acq_rel);
  impl_->generation.notify_all();
  for (auto& t : impl_->workers) t.join();
}

int ThreadPool::size() const noexcept {
  return impl_->n_threads;
}

void ThreadPool::run(const std::function<void(int thread, int n_threads)>& fn) {
  if (impl_->n_threads == 1) {
    fn(0, 1);
    return;
  }
  std::lock_guard<std::mutex> lock(impl_->submit);
  impl_->job = &fn;
  impl_->pending.store(impl_->n_threads - 1, std::memory_order_release);
  impl_->generation.fetch_add(1, std::memory_order_acq_rel);
  impl_->generation.notify_all();
  fn(0, impl_->n_threads);
  for (int i = 0; i < kSpinIterations; ++i) {
    if (impl_->pending.load(std::memory_order_acquire) == 0) break;
    INFERENCE_CPU_RELAX();
    if (i >= kPureSpinIterations) std::this_thread::yield();
  }
  for (int p; (p = impl_->pending.load(std::memory_order_acquire)) != 0;) {
    impl_->pending.wait(p, std::memory_order_acquire);
  }
  impl_->job = nullptr;
}

void ThreadPool::parallel_for(int64_t n,
                              const std::function<void(int64_t begin, int64_t end)>& fn) {
  if (n <= 0) return;
  const int threads = static_cast<int>(std::min<int64_t>(impl_->n_threads, n));
  if (threads == 1) {
    fn(0, n);
    return;
  }
  run([&fn, n](int thread, int n_threads) {
    const int64_t begin = n * thread / n_threads;
    const int64_t end = n * (thread + 1) / n_threads;
    if (begin < end) fn(begin, end);
  });
}

int physical_core_count() noexcept {
  // Count distinct (package, core) pairs: hyper-threads share a core's execution units, and the
  // memory-bound kernels gain nothing from them.
  try {
    std::set<std::pair<std::string, std::string>> cores;
    const std::filesystem::path root = "/sys/devices/system/cpu";
    std::error_code ec;
#if defined(__linux__)
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) throw std::runtime_error("affinity");
#endif
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() < 4 || name.compare(0, 3, "cpu") != 0 ||
          name.find_first_not_of("0123456789", 3) != std::string::npos) {
        continue;
      }
#if defined(__linux__)
      // Only CPUs this process may run on (containers and taskset restrict the set).
      const int cpu = std::stoi(name.substr(3));
      if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) continue;
#endif
      std::ifstream pkg(entry.path() / "topology/physical_package_id");
      std::ifstream core(entry.path() / "topology/core_id");
      std::string p, c;
      if (pkg >> p && core >> c) cores.emplace(p, c);
    }
    if (!cores.empty()) return static_cast<int>(cores.size());
  } catch (...) {
    // fall through to the portable answer
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace inference::kernels
