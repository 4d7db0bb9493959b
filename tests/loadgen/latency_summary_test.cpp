#include "loadgen/latency_summary.hpp"

#include <gtest/gtest.h>

namespace inference::loadgen {
namespace {

TEST(LatencySummary, EmptyIsAllZero) {
  const LatencySummary s = summarize_latencies({});
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99, 0);
}

TEST(LatencySummary, InterpolatedPercentilesOfUnsortedSamples) {
  // 1..11 shuffled: rank p/100 * 10 falls on whole numbers for p50 and p90.
  const LatencySummary s = summarize_latencies({7, 1, 11, 3, 5, 9, 2, 4, 6, 8, 10});
  EXPECT_EQ(s.count, 11u);
  EXPECT_DOUBLE_EQ(s.mean, 6);
  EXPECT_DOUBLE_EQ(s.p50, 6);
  EXPECT_DOUBLE_EQ(s.p90, 10);
  EXPECT_DOUBLE_EQ(s.p99, 10.9);  // between the 10th and 11th value
  EXPECT_DOUBLE_EQ(s.max, 11);
}

TEST(LatencySummary, SingleSample) {
  const LatencySummary s = summarize_latencies({4.5});
  EXPECT_DOUBLE_EQ(s.p50, 4.5);
  EXPECT_DOUBLE_EQ(s.p99, 4.5);
}

}  // namespace
}  // namespace inference::loadgen
