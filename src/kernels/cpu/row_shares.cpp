// kernels/cpu/row_shares.cpp — see row_shares.hpp.
#include "kernels/cpu/row_shares.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace inference::kernels::detail {
namespace {

constexpr int64_t kUnitRows = 16;
// Weights one claim streams: large enough that the compare-and-swap is noise (~1 µs of reading),
// small enough that a thief arriving late still finds work to take.
constexpr size_t kChunkBytes = size_t{64} << 10;

constexpr uint64_t pack(uint64_t begin, uint64_t end) {
  return begin << 32 | end;
}
constexpr uint64_t begin_of(uint64_t range) {
  return range >> 32;
}
constexpr uint64_t end_of(uint64_t range) {
  return range & 0xffffffffu;
}

// INFERENCE_ROW_STEALING=0: the static split alone, the A/B switch of decode benchmarks.
bool stealing_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("INFERENCE_ROW_STEALING");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return enabled;
}

}  // namespace

void RowShares::reset(int64_t rows, size_t row_bytes, int n_threads) noexcept {
  rows_ = rows;
  threads_ = std::clamp(n_threads, 1, kMaxThreads);
  const size_t unit_bytes = std::max<size_t>(1, row_bytes * kUnitRows);
  chunk_units_ = std::max<uint64_t>(1, kChunkBytes / unit_bytes);
  // The starting shares: contiguous, equal in units of 16 rows.
  const auto units = static_cast<uint64_t>((rows + kUnitRows - 1) / kUnitRows);
  const auto n = static_cast<uint64_t>(threads_);
  for (int t = 0; t < threads_; ++t) {
    const auto i = static_cast<uint64_t>(t);
    range(t).store(pack(units * i / n, units * (i + 1) / n), std::memory_order_relaxed);
  }
  // The pool's job hand-off publishes these stores to the workers.
}

bool RowShares::claim(int thread, int64_t& r0, int64_t& r1) noexcept {
  std::atomic_ref<uint64_t> own = range(thread);
  uint64_t cur = own.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t b = begin_of(cur), e = end_of(cur);
    if (b >= e) return false;
    const uint64_t nb = std::min(b + chunk_units_, e);
    if (own.compare_exchange_weak(cur, pack(nb, e), std::memory_order_relaxed)) {
      r0 = static_cast<int64_t>(b) * kUnitRows;
      r1 = std::min(rows_, static_cast<int64_t>(nb) * kUnitRows);
      return true;
    }
  }
}

bool RowShares::steal(int thread) noexcept {
  if (!stealing_enabled()) return false;
  for (;;) {
    int victim = -1;
    uint64_t seen = 0, most = 0;
    for (int t = 0; t < threads_; ++t) {
      if (t == thread) continue;
      const uint64_t cur = range(t).load(std::memory_order_relaxed);
      const uint64_t left = end_of(cur) > begin_of(cur) ? end_of(cur) - begin_of(cur) : 0;
      if (left > most) {
        most = left;
        victim = t;
        seen = cur;
      }
    }
    // One unit left is the owner's next claim; taking it would only move the wait.
    if (victim < 0 || most < 2) return false;
    const uint64_t cut = end_of(seen) - most / 2;
    if (range(victim).compare_exchange_strong(seen, pack(begin_of(seen), cut),
                                              std::memory_order_relaxed)) {
      // Our own share is empty, so no thief competes for it: a plain store hands the stolen
      // units to claim() (and to other thieves).
      range(thread).store(pack(cut, end_of(seen)), std::memory_order_relaxed);
      return true;
    }
  }
}

}  // namespace inference::kernels::detail
