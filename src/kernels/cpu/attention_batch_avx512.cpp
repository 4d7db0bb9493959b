// kernels/cpu/attention_batch_avx512.cpp — attend_tokens (attention_batch.hpp) with AVX-512.
//
// Compiled with -mavx512*: reached only when the AVX-512 kernel table is active (after its
// CPUID check). ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage
// functions here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/attention_batch.hpp"

namespace inference::kernels::detail {
namespace {

// e^x for x <= 0 (finite): x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial to
// degree 6 (relative error ~1e-7, about one float ulp), times 2^n by vscalefps (underflows to
// 0 below -87).
__m512 exp_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.5f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);  // ln2 high part
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);     // ln2 low part
  __m512 p = _mm512_set1_ps(1.f / 720.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

__m512 round_to_f16(__m512 v) {
  return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Elements [d, d + 16) of a cached row as floats (F32, F16 or Q8_0 blocks).
__m512 load_row16(const void* row, const KvHeadView& kv, int32_t d) {
  if (kv.q8_0) {
    const auto* block = static_cast<const std::byte*>(row) + static_cast<size_t>(d / 32) * 34;
    uint16_t d16;
    std::memcpy(&d16, block, 2);
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2 + d % 32));
    return _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(d16)),
                         _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
  }
  if (kv.f16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + d)));
  }
  return _mm512_loadu_ps(static_cast<const float*>(row) + d);
}

struct Cells {
  float* keys;     ///< [head_dim][stride], transposed
  float* values;   ///< [stride][head_dim]
  int32_t* pos;    ///< [stride], -1 past n
  int32_t n;       ///< visible cells
  int32_t stride;  ///< n rounded up to 16 (capacity: n_cells rounded up)
};

// The cells some query of the block can see, in position order (ring order), as floats.
Cells gather(const AttentionQueries& qs, int32_t hd, const KvHeadView& kv, int32_t window,
             float* scratch) {
  int32_t pmin = INT_MAX, pmax = -1;
  for (int32_t t = 0; t < qs.n_tokens; ++t) {
    pmin = qs.pos[t] < pmin ? qs.pos[t] : pmin;
    pmax = qs.pos[t] > pmax ? qs.pos[t] : pmax;
  }
  const int32_t lowest = window > 0 ? pmin - window + 1 : 0;
  const int32_t capacity = (kv.n_cells + 15) / 16 * 16;
  Cells c{scratch, scratch + static_cast<size_t>(hd) * capacity,
          reinterpret_cast<int32_t*>(scratch + 2 * static_cast<size_t>(hd) * capacity), 0,
          capacity};
  const size_t cell_bytes = kv_cell_bytes(kv);
  const auto* k_base = static_cast<const std::byte*>(kv.k);
  const auto* v_base = static_cast<const std::byte*>(kv.v);
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    const int32_t cell =
        kv.first_cell + i >= kv.n_cells ? kv.first_cell + i - kv.n_cells : kv.first_cell + i;
    const int32_t p = kv.cell_pos[cell];
    if (p < 0 || p < lowest || p > pmax) continue;
    const std::byte* krow = k_base + static_cast<size_t>(cell) * cell_bytes;
    const std::byte* vrow = v_base + static_cast<size_t>(cell) * cell_bytes;
    float* v = c.values + static_cast<size_t>(c.n) * hd;
    alignas(64) float k[16];
    for (int32_t d = 0; d < hd; d += 16) {
      _mm512_storeu_ps(v + d, load_row16(vrow, kv, d));
      _mm512_store_ps(k, load_row16(krow, kv, d));
      for (int j = 0; j < 16; ++j) c.keys[static_cast<size_t>(d + j) * capacity + c.n] = k[j];
    }
    c.pos[c.n] = p;
    ++c.n;
  }
  c.stride = capacity;
  // Padding up to the next 16 cells: position -1 (never visible), finite keys.
  for (int32_t j = c.n; j < (c.n + 15) / 16 * 16; ++j) {
    c.pos[j] = -1;
    for (int32_t d = 0; d < hd; ++d) c.keys[static_cast<size_t>(d) * capacity + j] = 0.f;
  }
  return c;
}

// NQ query heads of one token (same position, so the same visible cells) at once: every key
// and value vector loaded from the gathered cells feeds NQ multiply-adds, which is what keeps
// this kernel from being bound by L2 bandwidth.
template <int NQ>
void attend_heads(const float* const* q_in, float* const* out, int32_t pos, const Cells& c,
                  int32_t hd, bool f16, int32_t window, float scale, float* scores_base,
                  float* q_base) {
  float* q[NQ];
  float* scores[NQ];
  for (int i = 0; i < NQ; ++i) {
    q[i] = q_base + static_cast<size_t>(i) * hd;
    scores[i] = scores_base + static_cast<size_t>(i) * c.stride;
    for (int32_t d = 0; d < hd; d += 16) {
      const __m512 v = _mm512_loadu_ps(q_in[i] + d);
      _mm512_store_ps(q[i] + d, f16 ? round_to_f16(v) : v);
    }
  }
  const __m512i lo = _mm512_set1_epi32(window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0);
  const __m512i hi = _mm512_set1_epi32(pos);
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  const int32_t blocks = (c.n + 15) / 16;
  int32_t first = blocks, last = -1;
  __m512 vmax[NQ];
  for (int i = 0; i < NQ; ++i) vmax[i] = neg_inf;
  for (int32_t b = 0; b < blocks; ++b) {
    const __m512i p = _mm512_loadu_si512(c.pos + 16 * b);
    const __mmask16 m = _mm512_cmpge_epi32_mask(p, lo) & _mm512_cmple_epi32_mask(p, hi);
    if (m == 0) continue;  // scores of blocks outside [first, last] are never read
    first = b < first ? b : first;
    last = b;
    const float* k = c.keys + 16 * b;
    __m512 acc[NQ];
    for (int i = 0; i < NQ; ++i) acc[i] = _mm512_setzero_ps();
    for (int32_t d = 0; d < hd; ++d) {
      const __m512 kd = _mm512_load_ps(k + static_cast<size_t>(d) * c.stride);
      for (int i = 0; i < NQ; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[i][d]), kd, acc[i]);
    }
    for (int i = 0; i < NQ; ++i) {
      const __m512 s = _mm512_mask_mov_ps(neg_inf, m, _mm512_mul_ps(acc[i], _mm512_set1_ps(scale)));
      _mm512_store_ps(scores[i] + 16 * b, s);
      vmax[i] = _mm512_max_ps(vmax[i], s);
    }
  }
  if (last < 0) {
    for (int i = 0; i < NQ; ++i) {
      for (int32_t d = 0; d < hd; d += 16) _mm512_storeu_ps(out[i] + d, _mm512_setzero_ps());
    }
    return;
  }
  for (int i = 0; i < NQ; ++i) {
    // Blocks inside [first, last] that were skipped hold stale scores: re-mask them.
    const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax[i]));
    __m512 vsum = _mm512_setzero_ps();
    for (int32_t b = first; b <= last; ++b) {
      const __m512i p = _mm512_loadu_si512(c.pos + 16 * b);
      const __mmask16 m = _mm512_cmpge_epi32_mask(p, lo) & _mm512_cmple_epi32_mask(p, hi);
      const __m512 s = _mm512_load_ps(scores[i] + 16 * b);
      const __m512 e = _mm512_maskz_mov_ps(m, exp_nonpositive(_mm512_maskz_sub_ps(m, s, max)));
      vsum = _mm512_add_ps(vsum, e);
      _mm512_store_ps(scores[i] + 16 * b, e);
    }
    const __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(vsum));
    for (int32_t b = first; b <= last; ++b) {
      const __m512 w = _mm512_mul_ps(_mm512_load_ps(scores[i] + 16 * b), inv);
      _mm512_store_ps(scores[i] + 16 * b, f16 ? round_to_f16(w) : w);
    }
  }
  const int32_t j0 = 16 * first, j1 = 16 * last + 16 < c.n ? 16 * last + 16 : c.n;
  for (int32_t d = 0; d < hd; d += 16) {
    __m512 acc[NQ];
    for (int i = 0; i < NQ; ++i) acc[i] = _mm512_setzero_ps();
    const float* v = c.values + d;
    for (int32_t j = j0; j < j1; ++j) {
      const __m512 vj = _mm512_loadu_ps(v + static_cast<size_t>(j) * hd);
      for (int i = 0; i < NQ; ++i)
        acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(scores[i][j]), vj, acc[i]);
    }
    for (int i = 0; i < NQ; ++i) _mm512_storeu_ps(out[i] + d, acc[i]);
  }
}

}  // namespace

void attend_tokens_avx512(const AttentionQueries& qs, int32_t hd, const KvHeadView& kv,
                          int32_t window, float scale, float* scratch) {
  const Cells c = gather(qs, hd, kv, window, scratch);
  float* scores = scratch + 2 * static_cast<size_t>(hd) * c.stride + c.stride;
  float* q = scores + 4 * static_cast<size_t>(c.stride);
  for (int32_t t = 0; t < qs.n_tokens; ++t) {
    for (int32_t h = 0; h < qs.n_heads; h += 4) {
      const float* in[4];
      float* out[4];
      const int nq = qs.n_heads - h < 4 ? qs.n_heads - h : 4;
      for (int i = 0; i < nq; ++i) {
        const size_t off = static_cast<size_t>(t) * qs.stride + static_cast<size_t>(h + i) * hd;
        in[i] = qs.q + off;
        out[i] = qs.out + off;
      }
      const int32_t pos = qs.pos[t];
      switch (nq) {
        case 4:
          attend_heads<4>(in, out, pos, c, hd, kv.f16, window, scale, scores, q);
          break;
        case 3:
          attend_heads<3>(in, out, pos, c, hd, kv.f16, window, scale, scores, q);
          break;
        case 2:
          attend_heads<2>(in, out, pos, c, hd, kv.f16, window, scale, scores, q);
          break;
        default:
          attend_heads<1>(in, out, pos, c, hd, kv.f16, window, scale, scores, q);
          break;
      }
    }
  }
}

}  // namespace inference::kernels::detail
