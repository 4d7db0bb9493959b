// kernels/cpu/attention_decode_avx512.cpp — attend_decode_block (attention_decode.hpp) with
// AVX-512.
//
// The query heads of the group are served in slabs of up to 8 (attention_decode_slabs.hpp), each
// slab by two passes over the block's cells; both keep everything they accumulate in registers, so
// a cell costs one conversion per 16 elements (a few operations for Q8_0) plus one fused
// multiply-add per head and 16 elements in each pass — the floor of float arithmetic, which on a
// core that retires one 512-bit operation per cycle is what bounds this kernel, not memory:
// - keys: each visible cell's row is converted 16 elements at a time and multiplied into one
//   accumulator per head; the 16 per-cell vectors of a tile of 16 cells are then reduced to the
//   16 scores by one transpose-and-add tree (about 3 operations per score, not a horizontal
//   sum each);
// - values: the columns are taken in chunks that fit the register file with the slab's heads
//   (for head_dim 64 and 4 heads, the whole row), and each cell adds weight * row into every
//   head's chunk of the output, the weights being e^(s - block max).
// The visibility of 16 cells is one masked load (or gather, where the ring wraps) and three
// compares. So each key and value is read from memory once per token per KV head, and converted
// once per slab.
//
// Compiled with -mavx512*: reached only when the AVX-512 kernel table is active (after its
// CPUID check). ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage
// functions here.
// GCC 12 reports its own intrinsics' undefined-upper-lanes idiom as uninitialised.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/attention_decode_slabs.hpp"

namespace inference::kernels::detail {
namespace {

// e^x for x <= 0 (finite): x = n ln2 + r, e^r by its Taylor polynomial to degree 6, times 2^n
// by vscalefps (0 below -87).
__m512 exp_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.5f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
  __m512 p = _mm512_set1_ps(1.f / 720.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

// Lane j of the result = the sum of the 16 lanes of a[j].
__m512 reduce16(const __m512* a) {
  __m512 t[8], u[4];
  for (int i = 0; i < 8; ++i) {
    t[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]),
                         _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  }
  for (int k = 0; k < 4; ++k) {
    u[k] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * k], t[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(t[2 * k], t[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  const __m512 w0 = _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 w1 = _mm512_add_ps(_mm512_shuffle_f32x4(u[2], u[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_f32x4(u[2], u[3], _MM_SHUFFLE(3, 2, 3, 2)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(w0, w1, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(w0, w1, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Elements [16 d, 16 d + 16) of a cached row, as floats.
template <Element E>
__m512 row_vector(const std::byte* row, int32_t d) {
  if constexpr (E == Element::f16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row) + d));
  } else if constexpr (E == Element::f32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + 16 * d);
  } else {
    const std::byte* block = row + static_cast<size_t>(d / 2) * 34;
    uint16_t d16;
    std::memcpy(&d16, block, 2);
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2) + d % 2);
    return _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(d16)),
                         _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
  }
}

struct Avx512 {
  static constexpr int kTile = 16;
  static constexpr int kValueRegisters = 24;  // of 32 registers; the rest hold the row chunk
                                              // and the weight
  using Cells = BlockCells<kTile>;

  // The visibility of each tile's 16 cells: one masked load of their positions (a gather where
  // the ring wraps inside the tile) and three compares.
  static void visibility(const DecodeQueries& qs, int32_t n, const KvHeadView& kv, Cells& b) {
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i lowest = _mm512_set1_epi32(qs.window > 0 ? qs.pos - qs.window + 1 : 0);
    const __m512i pos = _mm512_set1_epi32(qs.pos);
    for (int32_t t = 0; t < b.n_tiles; ++t) {
      const int32_t left = n - t * kTile;
      const auto in_block = static_cast<__mmask16>(left >= kTile ? 0xFFFF : (1u << left) - 1);
      const int32_t c0 = b.tile_cell(t);
      __m512i p;
      if (c0 + kTile <= b.n_cells) {
        p = _mm512_maskz_loadu_epi32(in_block, kv.cell_pos + c0);
      } else {  // the ring wraps inside this tile
        __m512i c = _mm512_add_epi32(_mm512_set1_epi32(c0), lane);
        const __mmask16 past = _mm512_cmpge_epi32_mask(c, _mm512_set1_epi32(b.n_cells));
        c = _mm512_mask_sub_epi32(c, past, c, _mm512_set1_epi32(b.n_cells));
        p = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), in_block, c, kv.cell_pos, 4);
      }
      __mmask16 m = _mm512_mask_cmpge_epi32_mask(in_block, p, _mm512_setzero_si512());
      m = _mm512_mask_cmpge_epi32_mask(m, p, lowest);
      b.visible[t] = _mm512_mask_cmple_epi32_mask(m, p, pos);
    }
  }

  static void round_queries(const float* in, int32_t n, bool to_f16, float* out) {
    for (int32_t i = 0; i < n; i += 16) {
      __m512 v = _mm512_loadu_ps(in + i);
      if (to_f16) {
        v = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      }
      _mm512_store_ps(out + i, v);
    }
  }

  // Scores of HN heads (queries q, head after head, hd apart) for the visible cells of every
  // tile: scores[h * stride + cell], -inf where the cell is not visible. `dots` holds 16 * 16 * HN
  // floats (64-byte aligned).
  template <Element E, int HN>
  static void key_scores(const Cells& b, const float* q, int32_t hd, float scale, float* dots,
                         float* scores, size_t stride) {
    const int32_t vecs = hd / 16;
    const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
    for (int32_t t = 0; t < b.n_tiles; ++t) {
      const __mmask16 m = b.visible[t];
      if (m == 0) {
        for (int h = 0; h < HN; ++h) _mm512_store_ps(scores + h * stride + t * kTile, neg_inf);
        continue;
      }
      for (int32_t j = 0; j < kTile; ++j) {
        __m512 acc[HN];
        for (int h = 0; h < HN; ++h) acc[h] = _mm512_setzero_ps();
        if ((m >> j) & 1) {
          const std::byte* row = b.key(t, j);
          for (int32_t d = 0; d < vecs; ++d) {
            const __m512 k = row_vector<E>(row, d);
            for (int h = 0; h < HN; ++h) {
              acc[h] = _mm512_fmadd_ps(k, _mm512_load_ps(q + h * hd + 16 * d), acc[h]);
            }
          }
        }
        for (int h = 0; h < HN; ++h) _mm512_store_ps(dots + (h * kTile + j) * 16, acc[h]);
      }
      const __m512 vscale = _mm512_set1_ps(scale);
      for (int h = 0; h < HN; ++h) {
        const __m512 s = reduce16(reinterpret_cast<const __m512*>(dots + h * kTile * 16));
        _mm512_store_ps(scores + h * stride + t * kTile,
                        _mm512_mask_mov_ps(neg_inf, m, _mm512_mul_ps(s, vscale)));
      }
    }
  }

  // Columns [16 c0, 16 (c0 + NC)) of out[h * hd + ...] = the sum over the visible cells of
  // weight[h * stride + cell] * value row, for HN heads: HN * NC accumulators in registers.
  template <Element E, int HN, int NC>
  static void value_chunk(const Cells& b, const float* weight, size_t stride, int32_t hd,
                          int32_t c0, float* out) {
    __m512 acc[HN][NC];
    for (int h = 0; h < HN; ++h) {
      for (int k = 0; k < NC; ++k) acc[h][k] = _mm512_setzero_ps();
    }
    for (int32_t t = 0; t < b.n_tiles; ++t) {
      const __mmask16 m = b.visible[t];
      for (int32_t j = 0; j < kTile; ++j) {
        if (((m >> j) & 1) == 0) continue;
        const std::byte* row = b.value(t, j);
        __m512 v[NC];
        for (int k = 0; k < NC; ++k) v[k] = row_vector<E>(row, c0 + k);
        for (int h = 0; h < HN; ++h) {
          const __m512 w = _mm512_set1_ps(weight[h * stride + t * kTile + j]);
          for (int k = 0; k < NC; ++k) acc[h][k] = _mm512_fmadd_ps(w, v[k], acc[h][k]);
        }
      }
    }
    for (int h = 0; h < HN; ++h) {
      for (int k = 0; k < NC; ++k) _mm512_storeu_ps(out + h * hd + 16 * (c0 + k), acc[h][k]);
    }
  }

  // Turns one head's scores into weights e^(s - max) in place; returns {max, sum}.
  static void softmax_weights(const Cells& b, float* s, float* max, float* sum) {
    const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
    __m512 vmax = neg_inf;
    for (int32_t t = 0; t < b.n_tiles; ++t)
      vmax = _mm512_max_ps(vmax, _mm512_load_ps(s + t * kTile));
    const float mx = _mm512_reduce_max_ps(vmax);
    *max = mx;
    __m512 vsum = _mm512_setzero_ps();
    if (mx != -__builtin_inff()) {
      const __m512 vm = _mm512_set1_ps(mx);
      for (int32_t t = 0; t < b.n_tiles; ++t) {
        const __mmask16 m = b.visible[t];
        const __m512 e = _mm512_maskz_mov_ps(
            m, exp_nonpositive(_mm512_maskz_sub_ps(m, _mm512_load_ps(s + t * kTile), vm)));
        vsum = _mm512_add_ps(vsum, e);
        _mm512_store_ps(s + t * kTile, e);
      }
    }
    *sum = _mm512_reduce_add_ps(vsum);
  }
};

}  // namespace

void attend_decode_block_avx512(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv,
                                int32_t i0, int32_t i1, float* scratch,
                                const AttentionPartial& partial) {
  attend_block<Avx512>(qs, hd, kv, i0, i1, scratch, partial);
}

}  // namespace inference::kernels::detail
