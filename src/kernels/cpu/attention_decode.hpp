// kernels/cpu/attention_decode.hpp — attention of one token's query heads over the cached keys
// and values, split over blocks of cells (flash-decoding): the path of generation, where one
// query per head meets the whole context.
//
// At depth the cache read dominates attention: every key and value of the sequence is read per
// token. So (1) all the query heads that share a KV head (grouped-query attention) are served by
// one pass over its cells, converting each key and value to float once for the whole group;
// (2) the cells are cut into fixed blocks of kDecodeBlockCells, each an independent work item
// that yields a partial result (the block's max score, the sum of exponentials and the
// unnormalised weighted value sum per head), and the partials are merged afterwards in block
// order. Any number of threads can share the blocks of one KV head, and because the split does
// not depend on the thread count, neither do the results.
//
// Cache element types: F32, F16 (the query is rounded to F16 first, as the reference's F16
// matmul does) and Q8_0 (blocks of 32: an F16 scale and 32 int8; head_dim a multiple of 32).
// Results match the scalar reference up to float rounding (summation order, polynomial exp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/ops/attention.hpp"

namespace inference::kernels {

/// Cells per work item. A block's keys and values (F16, head_dim 64: 32 KiB each) stay in L2
/// while every query head of the group uses them; at depth 4096 a model with 8 KV heads has 128
/// items per layer, plenty to balance any small number of threads.
inline constexpr int32_t kDecodeBlockCells = 256;

/// The query heads of one token that share one KV head.
struct DecodeQueries {
  const float* q = nullptr;  ///< n_heads * head_dim floats, head after head
  int32_t n_heads = 0;
  int32_t pos = 0;     ///< position of the token (cells at later positions are masked)
  int32_t window = 0;  ///< sliding window (0 = none), AttentionMask rules
  float scale = 1.0f;  ///< applied to q.k
};

/// What one block of cells contributes, per head: max score m, sum of e^(s - m), and the sum
/// of e^(s - m) v (head_dim floats). A block with no visible cell has m = -inf, sum 0, out 0.
struct AttentionPartial {
  float* out = nullptr;  ///< n_heads * head_dim
  float* max = nullptr;  ///< n_heads
  float* sum = nullptr;  ///< n_heads
};

/// Floats of one partial of n_heads heads: out, then max, then sum.
inline constexpr size_t attention_partial_floats(int32_t head_dim, int32_t n_heads) noexcept {
  return static_cast<size_t>(n_heads) * (static_cast<size_t>(head_dim) + 2);
}
/// The partial stored at `base` (attention_partial_floats floats).
inline AttentionPartial attention_partial_at(float* base, int32_t head_dim,
                                             int32_t n_heads) noexcept {
  float* max = base + static_cast<size_t>(n_heads) * head_dim;
  return {base, max, max + n_heads};
}

/// Floats of scratch attend_decode_block needs (any alignment: it aligns its parts itself).
size_t attend_decode_scratch_floats(int32_t head_dim, int32_t n_heads) noexcept;

/// Whether attend_decode_block handles this head size and cache type (head_dim a multiple of
/// 16, at most 512; a multiple of 32 for Q8_0).
bool attend_decode_supported(int32_t head_dim, const KvHeadView& kv) noexcept;

/// The partial result of the cells at ring indices [i0, i1) of `kv` (index i is cell
/// (first_cell + i) mod n_cells, as attend_head visits them); i1 - i0 <= kDecodeBlockCells.
void attend_decode_block(const DecodeQueries& queries, int32_t head_dim, const KvHeadView& kv,
                         int32_t i0, int32_t i1, float* scratch,
                         const AttentionPartial& partial) noexcept;

/// out (n_heads * head_dim) = the softmax-weighted value sum over all blocks: partials merged
/// in order, each rescaled by e^(m_block - m_max). No visible cell at all: out is zero.
/// Partial b is stored at parts + b * attention_partial_floats(head_dim, n_heads).
void attend_decode_merge(const float* parts, int32_t n_blocks, int32_t n_heads, int32_t head_dim,
                         float* out) noexcept;

/// Stores `n` floats (a multiple of 32) as Q8_0 blocks, as ggml's reference quantiser: scale
/// d = max|x| / 127 stored as F16, q = round(x / d).
void quantize_row_q8_0_kv(const float* x, void* out, int64_t n) noexcept;

/// Bytes of one row of `n` elements of a Q8_0 cache.
inline constexpr size_t q8_0_row_bytes(int64_t n) noexcept {
  return static_cast<size_t>(n / 32) * 34;
}

namespace detail {
/// Query heads the SIMD kernels serve per pass (their accumulators share the register file),
/// and the floats of scratch a pass's per-cell dot vectors take (16 cells x 16 lanes each).
inline constexpr int32_t kDecodeSlabHeads = 8;
inline constexpr size_t kDecodeSlabDotFloats = kDecodeSlabHeads * 16 * 16;

using AttendDecodeFn = void (*)(const DecodeQueries& queries, int32_t head_dim,
                                const KvHeadView& kv, int32_t i0, int32_t i1, float* scratch,
                                const AttentionPartial& partial);
void attend_decode_block_scalar(const DecodeQueries& queries, int32_t head_dim,
                                const KvHeadView& kv, int32_t i0, int32_t i1, float* scratch,
                                const AttentionPartial& partial);
#if defined(INFERENCE_KERNELS_X86)
void attend_decode_block_avx2(const DecodeQueries& queries, int32_t head_dim, const KvHeadView& kv,
                              int32_t i0, int32_t i1, float* scratch,
                              const AttentionPartial& partial);
void attend_decode_block_avx512(const DecodeQueries& queries, int32_t head_dim,
                                const KvHeadView& kv, int32_t i0, int32_t i1, float* scratch,
                                const AttentionPartial& partial);
#endif
}  // namespace detail

}  // namespace inference::kernels
