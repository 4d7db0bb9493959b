// perf/memory_bandwidth.hpp — measures this machine's memory read bandwidth, the ceiling of
// memory-bound decode: bench reports each result as a fraction of it.
//
// Method (STREAM-style "read" kernel): the buffer, much larger than the last-level cache (1 GiB
// by default), is split into one contiguous slice per thread of the kernels' own thread pool,
// exactly as decode splits weight rows; each thread first writes its slice (so its pages are
// local and not the shared zero page), then every run streams the slices with the widest vector
// loads the active SIMD path has (AVX-512, AVX2 — INFERENCE_SIMD caps it like the kernels —
// or 64-bit words), four independent accumulators deep so enough loads are in flight. A run is
// the time from the pool's start to its last thread's finish.
//
// The figure reported is the MEDIAN of the runs, with the minimum and maximum beside it: on a
// shared host the best run is an outlier in one direction and the mean in the other, while the
// median moves little between invocations, which is what a ratio "% of bandwidth" needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace inference::perf {

struct BandwidthResult {
  double gb_per_second = 0;  ///< median run, 1e9 bytes per second (the figure to compare with)
  double min_gb_per_second = 0;
  double max_gb_per_second = 0;
  double mean_gb_per_second = 0;
  int threads = 0;
  uint64_t buffer_bytes = 0;
  int runs = 0;
  std::string kernel;  ///< "avx512", "avx2" or "scalar": the loads the runs used

  /// (max − min) / median: 0 on a quiet machine.
  double spread() const noexcept {
    return gb_per_second > 0 ? (max_gb_per_second - min_gb_per_second) / gb_per_second : 0.0;
  }
};

/// The median of `values` (the mean of the middle two for an even count; 0 when empty).
double median_of(std::vector<double> values);

/// Streams `runs` times over `buffer_bytes` with `threads` threads (>= 1). Throws
/// Error(invalid_argument) for bad parameters, Error(out_of_memory) if the buffer cannot be had.
BandwidthResult measure_read_bandwidth(int threads, uint64_t buffer_bytes, int runs);

}  // namespace inference::perf
