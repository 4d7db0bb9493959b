// perf/bench_stats.cpp — see bench_stats.hpp.
#include "perf/bench_stats.hpp"

#include <cmath>
#include <fstream>

namespace inference::perf {

SampleStats sample_stats(const std::vector<double>& samples) {
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

uint64_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoull(line.substr(field.size() + 1)) * 1024;
    }
  }
  return 0;
}

uint64_t peak_rss_bytes() {
  return proc_status_bytes("VmHWM");
}

}  // namespace inference::perf
