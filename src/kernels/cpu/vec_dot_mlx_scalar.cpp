// kernels/cpu/vec_dot_mlx_scalar.cpp — scalar reference for the MLX affine 8-bit blocks: the
// dequantiser, and the dot product with float32 activations that the SIMD variants are tested
// against.
//
// Per block: scale * sum(q * x) + bias * sum(x), the sums accumulated in double so that the
// reference is more accurate than any variant (they are compared with a tolerance, as float
// reductions in another order cannot agree to the bit).
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/mlx_affine8.hpp"

namespace inference::kernels {

void dequantize_row_mlx_affine8(const void* src, float* out, int64_t n) noexcept {
  const auto* blocks = static_cast<const BlockMlxAffine8*>(src);
  for (int64_t b = 0; b < n / kMlxBlock; ++b) {
    for (int j = 0; j < kMlxBlock; ++j) {
      out[b * kMlxBlock + j] =
          blocks[b].scale * static_cast<float>(blocks[b].q[j]) + blocks[b].bias;
    }
  }
}

namespace detail {

float vec_dot_mlx_affine8(int64_t n, const void* w, const void* a) {
  const auto* blocks = static_cast<const BlockMlxAffine8*>(w);
  const float* x = static_cast<const float*>(a);
  double sum = 0;
  for (int64_t b = 0; b < n / kMlxBlock; ++b, x += kMlxBlock) {
    double qx = 0, xs = 0;
    for (int j = 0; j < kMlxBlock; ++j) {
      qx += static_cast<double>(blocks[b].q[j]) * x[j];
      xs += x[j];
    }
    sum += blocks[b].scale * qx + blocks[b].bias * xs;
  }
  return static_cast<float>(sum);
}

}  // namespace detail
}  // namespace inference::kernels
