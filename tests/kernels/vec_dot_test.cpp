// Dot products against float64: the weights dequantised with dequantize_row (checked against
// llama.cpp in dequantize_test) times the quantised-then-dequantised activations. Only the float
// rounding of the per-block combination separates the two.
#include <gtest/gtest.h>

#include "kernels/cpu/gemv.hpp"

#include <cmath>
#include <random>

#include "inference/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels {
namespace {

double reference_dot(GgmlType type, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a,
                     int64_t n, double* abs_sum) {
  std::vector<float> wf(static_cast<size_t>(n));
  dequantize_row(type, w.data(), wf.data(), n);
  const auto af = test::dequantize_activation(activation_type(type), a.data(), n);
  double sum = 0;
  *abs_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(wf[i]) * af[i];
    *abs_sum += std::fabs(static_cast<double>(wf[i]) * af[i]);
  }
  return sum;
}

TEST(VecDotScalar, EveryTypeMatchesFloat64Reference) {
  std::mt19937 rng(42);
  const detail::KernelTable& table = detail::scalar_kernel_table();
  for (GgmlType type : test::supported_types()) {
    for (int64_t n : {256, 1024, 2816}) {
      const auto w = test::random_row(type, n, rng);
      const auto x = test::random_floats(n, rng);
      const auto a = test::quantize_activation_for(type, x.data(), n);
      double abs_sum;
      const double want = reference_dot(type, w, a, n, &abs_sum);
      const float got = table.dot[static_cast<int>(type)](n, w.data(), a.data());
      EXPECT_NEAR(got, want, 1e-5 * abs_sum + 1e-30)
          << "type " << static_cast<int>(type) << " n " << n;
    }
  }
}

TEST(VecDotScalar, ActivationQuantisationErrorIsSmall) {
  // The whole path (quantised activations) stays close to the exact float product.
  std::mt19937 rng(43);
  for (GgmlType type : test::supported_types()) {
    const int64_t n = 2048;
    const auto w = test::random_row(type, n, rng);
    const auto x = test::random_floats(n, rng);
    std::vector<float> wf(n);
    dequantize_row(type, w.data(), wf.data(), n);
    double exact = 0, abs_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += static_cast<double>(wf[i]) * x[i];
      abs_sum += std::fabs(static_cast<double>(wf[i]) * x[i]);
    }
    const auto a = test::quantize_activation_for(type, x.data(), n);
    const float got =
        detail::scalar_kernel_table().dot[static_cast<int>(type)](n, w.data(), a.data());
    EXPECT_NEAR(got, exact, 0.02 * abs_sum) << "type " << static_cast<int>(type);
  }
}

TEST(MatmulSupport, TypesAndActivationFormats) {
  for (GgmlType type : test::supported_types()) EXPECT_TRUE(matmul_supported(type));
  EXPECT_FALSE(matmul_supported(GgmlType::IQ2_XXS));
  EXPECT_FALSE(matmul_supported(GgmlType::Q8_K));
  EXPECT_FALSE(matmul_supported(static_cast<GgmlType>(1000)));
  EXPECT_EQ(activation_type(GgmlType::Q4_0), GgmlType::Q8_0);
  EXPECT_EQ(activation_type(GgmlType::Q5_0), GgmlType::Q8_0);
  EXPECT_EQ(activation_type(GgmlType::Q8_0), GgmlType::Q8_0);
  EXPECT_EQ(activation_type(GgmlType::Q4_1), GgmlType::Q8_1);
  EXPECT_EQ(activation_type(GgmlType::Q5_1), GgmlType::Q8_1);
  EXPECT_EQ(activation_type(GgmlType::Q4_K), GgmlType::Q8_K);
  EXPECT_EQ(activation_type(GgmlType::Q2_K), GgmlType::Q8_K);
  EXPECT_EQ(activation_type(GgmlType::F16), GgmlType::F16);
  EXPECT_EQ(activation_type(GgmlType::BF16), GgmlType::BF16);
  EXPECT_EQ(activation_type(GgmlType::F32), GgmlType::F32);
  // Q4_K decodes through the row-vector kernels when its rows are interleaved: room for them.
  EXPECT_EQ(activation_scratch_bytes(GgmlType::Q4_K, 512, 3),
            3u * 2 * 292 + detail::gemv_scratch_bytes(GgmlType::Q4_K, 512, 3));
  // Q4_0 and Q4_1 decode through the row-vector kernels: their per-block sums and quants (and
  // the interleaved layout's transposed quants) come after.
  EXPECT_EQ(activation_scratch_bytes(GgmlType::Q4_1, 64, 1),
            2u * 36 + detail::gemv_scratch_bytes(GgmlType::Q4_1, 64, 1));
  EXPECT_EQ(activation_scratch_bytes(GgmlType::Q4_0, 64, 1),
            2u * 34 + detail::gemv_scratch_bytes(GgmlType::Q4_0, 64, 1));
  EXPECT_GT(detail::gemv_scratch_bytes(GgmlType::Q4_0, 64, 1), 64u + 2 * 8);
  EXPECT_EQ(activation_scratch_bytes(GgmlType::F16, 64, 2), 256u);
}

TEST(MatmulSupport, BadCallsAreErrorsNotCrashes) {
  ThreadPool pool(1);
  std::vector<uint8_t> w(4096), scratch(4096);
  std::vector<float> x(512), y(8);
  const WeightView unsupported{GgmlType::IQ2_XXS, w.data(), 1, 256, 66};
  EXPECT_THROW(matmul(pool, unsupported, x.data(), 256, 1, y.data(), 1, scratch.data()), Error);
  const WeightView ragged{GgmlType::Q4_K, w.data(), 1, 300, 144};
  EXPECT_THROW(matmul(pool, ragged, x.data(), 300, 1, y.data(), 1, scratch.data()), Error);
  EXPECT_THROW(dequantize_row(GgmlType::Q8_0, w.data(), x.data(), 33), Error);
}

}  // namespace
}  // namespace inference::kernels
