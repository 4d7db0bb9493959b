// Percentiles of a set of latency samples (TTFT, inter-token gaps, request latency).
#pragma once

#include <cstddef>
#include <vector>

namespace inference::loadgen {

struct LatencySummary {
  size_t count = 0;
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

/// Summary of `samples` (any unit); all zero for no samples. Percentiles interpolate linearly
/// between the two nearest ranks, so p99 of 10 samples lies between the 9th and 10th value.
LatencySummary summarize_latencies(std::vector<double> samples);

}  // namespace inference::loadgen
