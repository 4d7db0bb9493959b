// perf/memory_bandwidth.hpp — measures this machine's memory read bandwidth, the ceiling of
// memory-bound decode: bench reports each result as a fraction of it.
//
// Method: every thread streams through its own slice of a buffer much larger than the last-level
// cache (the default is 1 GiB; this machine kind reports a 260 MiB L3), summing 64-bit words so
// the reads cannot be optimised away; the time from a common start to the last thread's finish
// gives bytes/second. The best of several runs is kept, as llama.cpp and STREAM-like tools do,
// because a run can only be slowed (by other load), never sped up, by noise.
#pragma once

#include <cstdint>

namespace inference::perf {

struct BandwidthResult {
  double gb_per_second = 0;  ///< best run, 1e9 bytes per second
  double mean_gb_per_second = 0;
  int threads = 0;
  uint64_t buffer_bytes = 0;
  int runs = 0;
};

/// Streams `runs` times over `buffer_bytes` with `threads` threads (>= 1). Throws
/// Error(invalid_argument) for bad parameters, Error(out_of_memory) if the buffer cannot be had.
BandwidthResult measure_read_bandwidth(int threads, uint64_t buffer_bytes, int runs);

}  // namespace inference::perf
