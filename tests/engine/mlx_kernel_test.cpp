// The MLX affine 8-bit block kernels: every SIMD variant against the scalar reference (which
// sums in double), the dequantiser against scale * q + bias, and matmul() with these weights.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/mlx_affine8.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::kernels {
namespace {

std::vector<BlockMlxAffine8> random_blocks(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(1e-4f, 2e-2f), bias(-1.0f, 0.0f);
  std::uniform_int_distribution<int> q(0, 255);
  std::vector<BlockMlxAffine8> blocks(static_cast<size_t>(n / kMlxBlock));
  for (auto& b : blocks) {
    b.scale = scale(rng);
    b.bias = bias(rng);
    for (uint8_t& v : b.q) v = static_cast<uint8_t>(q(rng));
  }
  return blocks;
}

std::vector<float> random_floats(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

TEST(MlxKernels, DequantiseIsScaleTimesQPlusBias) {
  std::mt19937 rng(1);
  auto blocks = random_blocks(64, rng);
  std::vector<float> out(64);
  dequantize_row_mlx_affine8(blocks.data(), out.data(), 64);
  for (int j = 0; j < 64; ++j) {
    const BlockMlxAffine8& b = blocks[static_cast<size_t>(j / 32)];
    EXPECT_EQ(out[static_cast<size_t>(j)], b.scale * static_cast<float>(b.q[j % 32]) + b.bias);
  }
}

TEST(MlxKernels, EverySimdVariantMatchesScalar) {
  const int id = static_cast<int>(kMlxAffine8);
  const detail::VecDotFn scalar = detail::scalar_kernel_table().dot[id];
  ASSERT_NE(scalar, nullptr);
  std::mt19937 rng(2);
  int variants = 0;
  for (const char* level : {"avx2", "avx512"}) {
    const detail::KernelTable* table =
        level[3] == '2' ? detail::avx2_kernel_table() : detail::avx512_kernel_table();
    if (table == nullptr || !force_simd_path(level)) continue;  // not x86, or not this CPU
    force_simd_path("");
    ++variants;
    ASSERT_NE(table->dot[id], nullptr) << table->name;
    for (int64_t n : {32, 64, 96, 256, 4096}) {
      auto w = random_blocks(n, rng);
      auto x = random_floats(n, rng);
      const float ref = scalar(n, w.data(), x.data());
      const float got = table->dot[id](n, w.data(), x.data());
      // Float sums in another order: a few ulps of the sum of |terms|.
      double magnitude = 0;
      std::vector<float> wf(static_cast<size_t>(n));
      dequantize_row_mlx_affine8(w.data(), wf.data(), n);
      for (int64_t i = 0; i < n; ++i) magnitude += std::abs(wf[i] * x[i]);
      EXPECT_NEAR(got, ref, 1e-6 * magnitude + 1e-6) << table->name << " n=" << n;
    }
  }
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) {
    EXPECT_GE(variants, 1);  // the test did test something
  }
#endif
}

TEST(MlxKernels, MatmulUsesFloatActivations) {
  EXPECT_TRUE(matmul_supported(kMlxAffine8));
  EXPECT_EQ(activation_type(kMlxAffine8), GgmlType::F32);
  EXPECT_EQ(activation_scratch_bytes(kMlxAffine8, 128, 3), 0u);
  std::mt19937 rng(3);
  const int64_t rows = 20, cols = 128, tokens = 3;
  auto w = random_blocks(rows * cols, rng);
  auto x = random_floats(cols * tokens, rng);
  const WeightView view{kMlxAffine8, w.data(), rows, cols, mlx_affine8_row_bytes(cols)};
  ThreadPool pool(2);
  std::vector<float> y(static_cast<size_t>(rows * tokens));
  matmul(pool, view, x.data(), cols, tokens, y.data(), rows, nullptr);
  std::vector<float> wf(static_cast<size_t>(cols));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row_mlx_affine8(w.data() + r * cols / kMlxBlock, wf.data(), cols);
      double ref = 0;
      for (int64_t i = 0; i < cols; ++i) ref += static_cast<double>(wf[i]) * x[t * cols + i];
      EXPECT_NEAR(y[static_cast<size_t>(t * rows + r)], ref, 1e-3) << t << "," << r;
    }
  }
}

}  // namespace
}  // namespace inference::kernels
