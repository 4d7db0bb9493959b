// kernels/cpu/ops/attention.hpp — scaled dot-product attention of one query head over the
// cached keys/values of one KV head, with the causal and sliding-window masks.
//
// The cache is a set of cells, each holding one position (or -1 when empty), so a linear cache
// (cell = position) and a sliding-window ring (cell = position mod capacity) look the same here.
// With an F16 cache the query and the softmax weights are rounded to F16 before the dot
// products, as the reference's CPU matmul does when K/V are F16.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inference::kernels {

/// The cells of one KV head of one layer of one sequence.
struct KvHeadView {
  const void* k = nullptr;            ///< key of cell 0 (head_dim elements, float or F16 bits)
  const void* v = nullptr;            ///< value of cell 0
  bool f16 = false;                   ///< element type: F16 bits if true, else float (or q8_0)
  int64_t cell_stride = 0;            ///< elements between consecutive cells (a multiple of 32
                                      ///< for Q8_0)
  const int32_t* cell_pos = nullptr;  ///< position held by each cell; -1 = empty
  int32_t n_cells = 0;
  /// Cell holding the oldest position of a ring: cells are visited from here on (wrapping), so
  /// sums run in position order and a ring gives bit-identical results to a linear cache.
  int32_t first_cell = 0;
  /// Q8_0 blocks (an F16 scale + 32 int8 per 32 elements) instead of float / F16; f16 is false.
  /// Only attend_head and the decode kernels (attention_decode.hpp) read such a cache.
  bool q8_0 = false;
};

/// Bytes from one cell's row to the next.
inline size_t kv_cell_bytes(const KvHeadView& kv) noexcept {
  if (kv.q8_0) return static_cast<size_t>(kv.cell_stride / 32) * 34;
  return static_cast<size_t>(kv.cell_stride) * (kv.f16 ? 2 : 4);
}

/// Which cells a query at `pos` may see: 0 <= cell_pos <= pos and, if window > 0,
/// pos - cell_pos < window.
struct AttentionMask {
  int32_t pos = 0;
  int32_t window = 0;  ///< 0 = unlimited (global layer)
};

/// out[head_dim] = sum_c softmax_c(scale * q.k_c) v_c over the visible cells.
/// `scores` must hold kv.n_cells floats and `q_rounded` head_dim floats (scratch).
/// The q.k products use the matmul dot kernels of the active SIMD level.
/// If no cell is visible, out is zero.
void attend_head(const float* q, int32_t head_dim, const KvHeadView& kv, const AttentionMask& mask,
                 float scale, float* scores, float* q_rounded, float* out) noexcept;

}  // namespace inference::kernels
