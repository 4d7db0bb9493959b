// kernels/cpu/mlx_affine8.hpp — the block format MLX grouped-affine weights are converted into
// when no ggml format holds them exactly: 8-bit MLX weights (w = scale * q + bias, q in 0..255),
// and 4-bit ones whose scales or biases are not representable in fp16 (so Q4_1 would round them).
//
// Blocks of 32 elements carry their scale and bias as float32, which holds every F16, BF16 and
// F32 value exactly, so the conversion is lossless; an MLX group of 32/64/128 becomes 1/2/4
// blocks with the same scale and bias. Dot products take float32 activations (matmul pairs
// types it does not know with F32), so nothing is rounded but the float sums themselves.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_types.hpp"

namespace inference::kernels {

/// Not a GGUF type: ggml retired ids 4 and 5, and the GGUF reader refuses them, so id 4 can name
/// this load-time format without ever meeting a tensor read from a file.
inline constexpr formats::GgmlType kMlxAffine8 = static_cast<formats::GgmlType>(4);
inline constexpr int kMlxBlock = 32;  ///< elements per BlockMlxAffine8

struct BlockMlxAffine8 {
  float scale;
  float bias;
  uint8_t q[kMlxBlock];  ///< element j = scale * q[j] + bias
};
static_assert(sizeof(BlockMlxAffine8) == 40 && alignof(BlockMlxAffine8) == 4);

/// Bytes of one row of `cols` elements (cols a multiple of 32).
inline constexpr size_t mlx_affine8_row_bytes(int64_t cols) noexcept {
  return static_cast<size_t>(cols / kMlxBlock) * sizeof(BlockMlxAffine8);
}

/// One row of `n` elements (a multiple of 32) to float32: scale * q + bias, as MLX computes it.
void dequantize_row_mlx_affine8(const void* src, float* out, int64_t n) noexcept;

}  // namespace inference::kernels
