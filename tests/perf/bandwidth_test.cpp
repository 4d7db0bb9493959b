// The bandwidth measurement: the median with its spread, the load width the SIMD path picks,
// bad parameters rejected. (No figure is asserted: the tests must not depend on the host.)
#include <gtest/gtest.h>

#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"
#include "perf/memory_bandwidth.hpp"

namespace inference::perf {
namespace {

TEST(Bandwidth, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(median_of({}), 0.0);
  EXPECT_EQ(median_of({3.0}), 3.0);
  EXPECT_EQ(median_of({5.0, 1.0, 3.0}), 3.0);
  EXPECT_EQ(median_of({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_EQ(median_of({9.0, 1.0, 1.0, 1.0, 8.0}), 1.0);  // outliers do not move it
}

TEST(Bandwidth, ReportsMedianBetweenMinAndMax) {
  for (int threads : {1, 2}) {
    const BandwidthResult r = measure_read_bandwidth(threads, uint64_t{16} << 20, 5);
    EXPECT_EQ(r.threads, threads);
    EXPECT_EQ(r.runs, 5);
    EXPECT_GT(r.min_gb_per_second, 0.0);
    EXPECT_LE(r.min_gb_per_second, r.gb_per_second);
    EXPECT_LE(r.gb_per_second, r.max_gb_per_second);
    EXPECT_LE(r.min_gb_per_second, r.mean_gb_per_second);
    EXPECT_LE(r.mean_gb_per_second, r.max_gb_per_second);
    EXPECT_GE(r.spread(), 0.0);
    EXPECT_GE(r.buffer_bytes, uint64_t{15} << 20);
  }
}

TEST(Bandwidth, LoadsFollowTheSimdPath) {
  ASSERT_TRUE(kernels::force_simd_path("scalar"));
  EXPECT_EQ(measure_read_bandwidth(1, uint64_t{4} << 20, 1).kernel, "scalar");
  if (kernels::force_simd_path("avx2")) {
    EXPECT_EQ(measure_read_bandwidth(1, uint64_t{4} << 20, 1).kernel, "avx2");
  }
  if (kernels::force_simd_path("avx512")) {
    EXPECT_EQ(measure_read_bandwidth(1, uint64_t{4} << 20, 1).kernel, "avx512");
  }
  kernels::force_simd_path("");
}

TEST(Bandwidth, RejectsBadParameters) {
  EXPECT_THROW(measure_read_bandwidth(0, uint64_t{16} << 20, 1), Error);
  EXPECT_THROW(measure_read_bandwidth(1, uint64_t{16} << 20, 0), Error);
  EXPECT_THROW(measure_read_bandwidth(1, 1024, 1), Error);
}

}  // namespace
}  // namespace inference::perf
