// kernels/cpu/attention_batch.hpp — attention of a block of prompt tokens over one KV head.
//
// Prefill asks every prompt token's query heads to attend over the same cached keys and values.
// Doing that one query at a time (attend_head) reads and converts every F16 key and value once
// per query and reduces every q.k horizontally. Here a block of tokens × the query heads of one
// KV head share one conversion of the cells they can see into float, keys transposed so that 16
// cells' scores come out of one vector of multiply-adds, values row-major so that a query's
// output accumulates in vector registers. Same results as attend_head up to float rounding
// (summation order, a polynomial exp), with the same F16 roundings of q and of the softmax
// weights when the cache is F16.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/ops/attention.hpp"

namespace inference::kernels {

/// The queries of `n_tokens` tokens of one sequence × `n_heads` query heads sharing one KV head.
struct AttentionQueries {
  const float* q = nullptr;  ///< token t, head h: q + t * stride + h * head_dim
  float* out = nullptr;      ///< same layout as q
  int64_t stride = 0;
  int32_t n_tokens = 0;
  int32_t n_heads = 0;
  const int32_t* pos = nullptr;  ///< position of each token
};

/// Whether this CPU has a batched kernel for `head_dim` (else use attend_head per query).
bool attend_tokens_available(int32_t head_dim) noexcept;

/// Floats of scratch attend_tokens needs for a KV head of `n_cells` cells.
size_t attend_tokens_scratch_floats(int32_t head_dim, int32_t n_cells) noexcept;

/// out = softmax(scale * q.k) v over the cells each query may see (AttentionMask rules with
/// `window`), for every token and head of `queries`. `kv.cell_pos` must hold the positions the
/// queries need (a ring view taken at the last token's position). `scratch` 64-byte aligned.
void attend_tokens(const AttentionQueries& queries, int32_t head_dim, const KvHeadView& kv,
                   int32_t window, float scale, float* scratch) noexcept;

namespace detail {
using AttendTokensFn = void (*)(const AttentionQueries& queries, int32_t head_dim,
                                const KvHeadView& kv, int32_t window, float scale, float* scratch);
#if defined(INFERENCE_KERNELS_X86)
void attend_tokens_avx512(const AttentionQueries& queries, int32_t head_dim, const KvHeadView& kv,
                          int32_t window, float scale, float* scratch);
#endif
}  // namespace detail

}  // namespace inference::kernels
