// matmul: many tokens at once equal one token at a time (bit for bit: the tiles and row kernels
// compute the same per-row arithmetic), any thread count gives the same bits, strides are honoured.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "inference/error.hpp"
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
  const int64_t rows = 20;
  // 256 columns: one partial run of 16 blocks of 32; 1,280: two whole runs and a partial one
  // (the row kernels unroll a whole run and read its scales another way); 1,312: a partial run
  // of an odd count of blocks (a last pair with one block), for the 32-element types only.
  for (const int64_t cols : {256, 1280, 1312})
    for (GgmlType type : test::supported_types()) {
      if (!ggml_row_bytes(type, static_cast<uint64_t>(cols))) continue;
      const Matrix m = random_matrix(type, rows, cols, rng);
      const auto x = test::random_floats(cols, rng);
      const auto y = run_matmul(pool, m.view, x, cols, 1, rows);
      const auto a = test::quantize_activation_for(type, x.data(), cols);
      const auto af = test::dequantize_activation(activation_type(type), a.data(), cols);
      std::vector<float> wf(static_cast<size_t>(cols));
      for (int64_t r = 0; r < rows; ++r) {
        const float want = detail::active_kernel_table().dot[static_cast<int>(type)](
            cols, m.bytes.data() + r * m.view.row_bytes, a.data());
        if (detail::active_kernel_table().gemv[static_cast<int>(type)] == nullptr &&
            detail::active_kernel_table().gemv_k[static_cast<int>(type)] == nullptr) {
          EXPECT_EQ(y[r], want) << "type " << static_cast<int>(type) << " row " << r;
        } else {
          // The row-vector kernels sum in another order (gemm_test bounds them against the exact
          // product): equal up to float rounding of the products' magnitudes — not of the
          // result, which cancellation can make small (AVX2 Q5_K at 1,280 columns differed by
          // 1.1e-4 on a result of 2.08).
          dequantize_row(type, m.bytes.data() + r * m.view.row_bytes, wf.data(), cols);
          double magnitude = 0;
          for (int64_t i = 0; i < cols; ++i) magnitude += std::fabs(double{wf[i]} * af[i]);
          EXPECT_NEAR(y[r], want, 4e-6 * magnitude + 1e-30)
              << "type " << static_cast<int>(type) << " row " << r << " cols " << cols;
        }
      }
    }
}

// matmul_shared_input (the decoder's fused q/k/v and gate/up pass): the same bits as one matmul()
// per weight, fused (one token, one activation format) or not (several tokens, mixed formats),
// for every type, on every thread count, rows not a multiple of 16 included.
TEST(Matmul, SharedInputEqualsSeparateMatmuls) {
  std::mt19937 rng(3);
  ThreadPool one(1), two(2), three(3);
  const int64_t cols = 512;
  std::vector<std::vector<GgmlType>> groups;
  for (GgmlType type : test::supported_types()) groups.push_back({type, type, type});
  groups.push_back({GgmlType::Q4_K, GgmlType::Q4_K, GgmlType::Q6_K});  // a _M mix's q/k/v
  groups.push_back({GgmlType::Q5_0, GgmlType::Q5_0, GgmlType::Q8_0});  // Qwen's: gemv types
  groups.push_back({GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K});  // two activation formats
  groups.push_back({GgmlType::Q4_K, GgmlType::Q6_K});
  for (const auto& types : groups) {
    std::vector<Matrix> ms;
    const int64_t row_counts[3] = {40, 7, 33};
    for (size_t i = 0; i < types.size(); ++i) {
      ms.push_back(random_matrix(types[i], row_counts[i], cols, rng));
    }
    for (int64_t n_tokens : {1, 3}) {
      const auto x = test::random_floats(n_tokens * cols, rng);
      size_t scratch_bytes = 1;
      for (const auto& m : ms) {
        scratch_bytes =
            std::max(scratch_bytes, activation_scratch_bytes(m.view.type, cols, n_tokens));
      }
      for (ThreadPool* pool : {&one, &two, &three}) {
        std::vector<std::vector<float>> fused(ms.size());
        std::vector<const WeightView*> ws;
        std::vector<float*> ys;
        for (size_t i = 0; i < ms.size(); ++i) {
          fused[i].assign(static_cast<size_t>(n_tokens * ms[i].view.rows), -7.f);
          ws.push_back(&ms[i].view);
          ys.push_back(fused[i].data());
        }
        std::vector<uint8_t> scratch(scratch_bytes);
        matmul_shared_input(*pool, ws.data(), ys.data(), static_cast<int>(ws.size()), x.data(),
                            n_tokens, scratch.data());
        for (size_t i = 0; i < ms.size(); ++i) {
          EXPECT_EQ(fused[i], run_matmul(*pool, ms[i].view, x, cols, n_tokens, ms[i].view.rows))
              << "weight " << i << " type " << static_cast<int>(types[i]) << " tokens " << n_tokens
              << " threads " << pool->size();
        }
      }
    }
  }
}

TEST(Matmul, SharedInputRejectsUnsupportedTypesLikeMatmul) {
  ThreadPool pool(2);
  std::vector<uint8_t> bytes(64 * 32);
  const WeightView bad{static_cast<GgmlType>(1000), bytes.data(), 2, 32, 32};
  const WeightView* ws[] = {&bad, &bad};
  std::vector<float> x(32), y0(2), y1(2);
  float* ys[] = {y0.data(), y1.data()};
  std::vector<uint8_t> scratch(4096);
  EXPECT_THROW(matmul_shared_input(pool, ws, ys, 2, x.data(), 1, scratch.data()), Error);
}

}  // namespace
}  // namespace inference::kernels
