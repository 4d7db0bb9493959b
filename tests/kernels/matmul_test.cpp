// matmul: many tokens at once equal one token at a time (bit for bit: the tiles and row kernels
// compute the same per-row arithmetic), any thread count gives the same bits, strides are honoured.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kernel_test_util.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

struct Matrix {
  std::vector<uint8_t> bytes;
  WeightView view;
};

Matrix random_matrix(GgmlType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  Matrix m;
  const size_t rb = test::row_bytes(type, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = test::random_row(type, cols, rng);
    m.bytes.insert(m.bytes.end(), row.begin(), row.end());
  }
  m.view = {type, m.bytes.data(), rows, cols, rb};
  return m;
}

std::vector<float> run_matmul(ThreadPool& pool, const WeightView& w, const std::vector<float>& x,
                              int64_t x_stride, int64_t n_tokens, int64_t y_stride) {
  std::vector<float> y(static_cast<size_t>(n_tokens * y_stride), -7.f);
  std::vector<uint8_t> scratch(activation_scratch_bytes(w.type, w.cols, n_tokens) + 1);
  matmul(pool, w, x.data(), x_stride, n_tokens, y.data(), y_stride, scratch.data());
  return y;
}

TEST(Matmul, ManyTokensEqualOneAtATimeForEveryTypeAndThreadCount) {
  std::mt19937 rng(1);
  ThreadPool one(1), two(2), three(3);
  const int64_t rows = 37, cols = 512, n_tokens = 7, x_stride = cols + 3, y_stride = rows + 5;
  for (GgmlType type : test::supported_types()) {
    const Matrix m = random_matrix(type, rows, cols, rng);
    const auto x = test::random_floats(n_tokens * x_stride, rng);
    const auto batch = run_matmul(two, m.view, x, x_stride, n_tokens, y_stride);
    for (ThreadPool* pool : {&one, &two, &three}) {
      EXPECT_EQ(run_matmul(*pool, m.view, x, x_stride, n_tokens, y_stride), batch)
          << "type " << static_cast<int>(type) << " threads " << pool->size();
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
      const std::vector<float> xt(x.begin() + t * x_stride, x.begin() + (t + 1) * x_stride);
      const auto single = run_matmul(three, m.view, xt, x_stride, 1, y_stride);
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(single[r], batch[t * y_stride + r]) << "type " << static_cast<int>(type);
      }
      // The padding between rows of y is untouched.
      for (int64_t r = rows; r < y_stride; ++r) ASSERT_EQ(batch[t * y_stride + r], -7.f);
    }
  }
}

TEST(Matmul, EqualsDotOfEachRow) {
  std::mt19937 rng(2);
  ThreadPool pool(2);
  const int64_t rows = 20, cols = 256;
  for (GgmlType type : test::supported_types()) {
    const Matrix m = random_matrix(type, rows, cols, rng);
    const auto x = test::random_floats(cols, rng);
    const auto y = run_matmul(pool, m.view, x, cols, 1, rows);
    const auto a = test::quantize_activation_for(type, x.data(), cols);
    for (int64_t r = 0; r < rows; ++r) {
      const float want = detail::active_kernel_table().dot[static_cast<int>(type)](
          cols, m.bytes.data() + r * m.view.row_bytes, a.data());
      if (detail::active_kernel_table().gemv[static_cast<int>(type)] == nullptr) {
        EXPECT_EQ(y[r], want) << "type " << static_cast<int>(type) << " row " << r;
      } else {
        // The row-vector kernels sum in another order (gemm_test bounds them against the exact
        // product): equal up to float rounding.
        EXPECT_NEAR(y[r], want, 1e-5f * (std::fabs(want) + 1.f))
            << "type " << static_cast<int>(type) << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace inference::kernels
