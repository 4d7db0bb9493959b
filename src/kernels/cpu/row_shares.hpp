// kernels/cpu/row_shares.hpp — the rows of one matrix shared out among the threads of a pool
// job, with work stealing.
//
// A decode matmul is a few microseconds to a few hundred of streaming weights; with a static
// split every call waits for its slowest thread, and on a shared host a vCPU loses time at
// random (its sibling, the hypervisor, a late wake-up from the pool's spin). Here each thread
// walks its own contiguous share in chunks of about 64 KiB of weights and, when it is done, takes
// the back half of what remains of the fullest other share, so the threads of a call finish
// within about one chunk of each other. An owner's claims touch only its own cache line until a
// thief arrives; every range is a multiple of 16 rows (64 bytes of y), so no two threads write
// one cache line of the output.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace inference::kernels::detail {

class RowShares {
 public:
  /// Threads that get a share of their own; threads past it take no rows.
  static constexpr int kMaxThreads = 128;

  /// Before the pool job (on the calling thread): `rows` rows of `row_bytes` bytes each for
  /// `n_threads` threads; each starts on an equal contiguous share (in units of 16 rows).
  void reset(int64_t rows, size_t row_bytes, int n_threads) noexcept;

  /// Inside the pool job, on `thread`: calls f(r0, r1) for disjoint row ranges until no share
  /// has work left worth taking. Over all threads the ranges cover [0, rows) exactly once.
  template <typename F>
  void for_each(int thread, F&& f) noexcept {
    if (thread >= threads_) return;
    int64_t r0 = 0, r1 = 0;
    for (;;) {
      while (claim(thread, r0, r1)) f(r0, r1);
      if (!steal(thread)) return;
    }
  }

 private:
  // A share as [begin, end) in units of 16 rows: begin in the high half, end in the low. Plain
  // words reached through std::atomic_ref: constructing a RowShares (one per matmul call, on the
  // stack) writes none of its 128 cache lines; reset() writes the shares of the threads in use.
  struct alignas(64) Share {
    uint64_t range;
  };
  std::atomic_ref<uint64_t> range(int thread) noexcept {
    return std::atomic_ref(shares_[thread].range);
  }

  bool claim(int thread, int64_t& r0, int64_t& r1) noexcept;
  bool steal(int thread) noexcept;

  Share shares_[kMaxThreads];
  int threads_ = 0;
  int64_t rows_ = 0;
  uint64_t chunk_units_ = 1;
};

}  // namespace inference::kernels::detail
