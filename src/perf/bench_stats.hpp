// perf/bench_stats.hpp — the small statistics of a benchmark: mean ± sample standard deviation
// over repetitions, and the process's resident memory from /proc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace inference::perf {

struct SampleStats {
  double mean = 0;
  double stddev = 0;  ///< sample standard deviation (n - 1); 0 for a single sample
};

SampleStats sample_stats(const std::vector<double>& samples);

/// A "VmXXX:  1234 kB" line of /proc/self/status in bytes; 0 where /proc is unavailable.
uint64_t proc_status_bytes(const std::string& field);

/// Peak resident set size (VmHWM): mapped weights that were touched count, as they should.
uint64_t peak_rss_bytes();

}  // namespace inference::perf
