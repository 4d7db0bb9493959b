#include "train/dense_block.hpp"

#include <cstring>

#include "train/simd_clones.hpp"

namespace inference::train {

namespace {

inline Lanes load(const float* p) noexcept {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(float* p, const Lanes& v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

// A's element (row i, step p), stored as is or transposed.
template <bool kTransposedA>
inline float a_at(const float* a, int64_t lda, int64_t i, int64_t p) noexcept {
  return kTransposedA ? a[p * lda + i] : a[i * lda + p];
}

// Inlined into each clone below, so it is compiled for that clone's target.
template <bool kTransposedA>
__attribute__((always_inline)) inline void block_acc(int64_t m, int64_t n, int64_t k,
                                                     const float* a, int64_t lda, const float* b,
                                                     int64_t ldb, float* c, int64_t ldc) noexcept {
  constexpr int64_t kRows = 4, kCols = 32;
  int64_t j = 0;
  for (; j + kCols <= n; j += kCols) {
    int64_t i = 0;
    for (; i + kRows <= m; i += kRows) {
      Lanes acc[kRows][2];
      for (int64_t r = 0; r < kRows; ++r) {
        acc[r][0] = load(c + (i + r) * ldc + j);
        acc[r][1] = load(c + (i + r) * ldc + j + 16);
      }
      for (int64_t p = 0; p < k; ++p) {
        const Lanes b0 = load(b + p * ldb + j), b1 = load(b + p * ldb + j + 16);
        for (int64_t r = 0; r < kRows; ++r) {
          const float x = a_at<kTransposedA>(a, lda, i + r, p);
          acc[r][0] += x * b0;
          acc[r][1] += x * b1;
        }
      }
      for (int64_t r = 0; r < kRows; ++r) {
        store(c + (i + r) * ldc + j, acc[r][0]);
        store(c + (i + r) * ldc + j + 16, acc[r][1]);
      }
    }
    for (; i < m; ++i) {
      Lanes acc0 = load(c + i * ldc + j), acc1 = load(c + i * ldc + j + 16);
      for (int64_t p = 0; p < k; ++p) {
        const float x = a_at<kTransposedA>(a, lda, i, p);
        acc0 += x * load(b + p * ldb + j);
        acc1 += x * load(b + p * ldb + j + 16);
      }
      store(c + i * ldc + j, acc0);
      store(c + i * ldc + j + 16, acc1);
    }
  }
  // The last n % 32 columns, one element at a time (same order over p).
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t jj = j; jj < n; ++jj) {
      float acc = c[i * ldc + jj];
      for (int64_t p = 0; p < k; ++p) acc += a_at<kTransposedA>(a, lda, i, p) * b[p * ldb + jj];
      c[i * ldc + jj] = acc;
    }
  }
}

}  // namespace

INFERENCE_TRAIN_CLONES void block_nn_acc(int64_t m, int64_t n, int64_t k, const float* a,
                                         int64_t lda, const float* b, int64_t ldb, float* c,
                                         int64_t ldc) noexcept {
  block_acc<false>(m, n, k, a, lda, b, ldb, c, ldc);
}

INFERENCE_TRAIN_CLONES void block_tn_acc(int64_t m, int64_t n, int64_t k, const float* a,
                                         int64_t lda, const float* b, int64_t ldb, float* c,
                                         int64_t ldc) noexcept {
  block_acc<true>(m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace inference::train
