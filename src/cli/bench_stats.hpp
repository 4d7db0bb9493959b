// cli/bench_stats.hpp — the small statistics of a benchmark: mean ± sample standard deviation
// over repetitions, and the process's resident memory from /proc.
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace inference::cli {

struct SampleStats {
  double mean = 0;
  double stddev = 0;  ///< sample standard deviation (n - 1); 0 for a single sample
};

inline SampleStats sample_stats(const std::vector<double>& samples) {
  SampleStats s;
  if (samples.empty()) return s;
  for (double v : samples) s.mean += v;
  s.mean /= static_cast<double>(samples.size());
  if (samples.size() > 1) {
    double sq = 0;
    for (double v : samples) sq += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(sq / static_cast<double>(samples.size() - 1));
  }
  return s;
}

/// A "VmXXX:  1234 kB" line of /proc/self/status in bytes; 0 where /proc is unavailable.
inline uint64_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoull(line.substr(field.size() + 1)) * 1024;
    }
  }
  return 0;
}

/// Peak resident set size (VmHWM): mapped weights that were touched count, as they should.
inline uint64_t peak_rss_bytes() {
  return proc_status_bytes("VmHWM");
}

}  // namespace inference::cli
