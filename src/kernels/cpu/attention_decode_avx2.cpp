// kernels/cpu/attention_decode_avx2.cpp — attend_decode_block (attention_decode.hpp) with AVX2:
// the AVX-512 variant's structure (attention_decode_avx512.cpp and attention_decode_slabs.hpp:
// slabs of up to 8 heads, keys and values accumulated in registers) with tiles of 8 cells, the 8
// dot vectors of a head reduced by a tree of horizontal adds, and value chunks sized for 16
// registers.
//
// Compiled with -mavx2 -mfma -mf16c: reached only when the AVX2 kernel table is active. ODR
// rule as in vec_dot_avx2.cpp: only intrinsics and internal-linkage functions here.
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

// e^x for x <= 0: x = n ln2 + r, Taylor polynomial of degree 6, 2^n built in the exponent
// field (x clamped at -87, so n >= -126 stays a normal number).
__m256 exp_nonpositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
  __m256 p = _mm256_set1_ps(1.f / 720.f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 120.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 24.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 6.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// Lane j of the result = the sum of the 8 lanes of a[j].
__m256 reduce8(const __m256* a) {
  const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Elements [8 d, 8 d + 8) of a cached row, as floats.
template <Element E>
__m256 row_vector(const std::byte* row, int32_t d) {
  if constexpr (E == Element::f16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row) + d));
  } else if constexpr (E == Element::f32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + 8 * d);
  } else {
    const std::byte* block = row + static_cast<size_t>(d / 4) * 34;
    uint16_t d16;
    std::memcpy(&d16, block, 2);
    int64_t eight;
    std::memcpy(&eight, block + 2 + 8 * (d % 4), 8);
    return _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(d16)),
                         _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(eight))));
  }
}

// All-ones lanes where bit j of m is set.
__m256 lane_mask(unsigned m) {
  const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i set = _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(m)), bits);
  return _mm256_castsi256_ps(_mm256_cmpeq_epi32(set, bits));
}

struct Avx2 {
  static constexpr int kTile = 8;
  static constexpr int kValueRegisters = 12;  // of 16 registers; the rest hold the row chunk
                                              // and the weight
  using Cells = BlockCells<kTile>;

  // The visibility of each tile's 8 cells: one masked load of their positions (scalar where the
  // ring wraps inside the tile) and three compares.
  static void visibility(const DecodeQueries& qs, int32_t n, const KvHeadView& kv, Cells& b) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // p >= lowest and p >= 0 as p > max(lowest, 0) - 1; p <= pos as not p > pos.
    const int32_t lowest = qs.window > 0 && qs.pos - qs.window + 1 > 0 ? qs.pos - qs.window + 1 : 0;
    const __m256i below = _mm256_set1_epi32(lowest - 1);
    const __m256i pos = _mm256_set1_epi32(qs.pos);
    for (int32_t t = 0; t < b.n_tiles; ++t) {
      const int32_t left = n - t * kTile;
      const __m256i in_block = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane);
      const int32_t c0 = b.tile_cell(t);
      __m256i p;
      if (c0 + kTile <= b.n_cells) {
        p = _mm256_maskload_epi32(kv.cell_pos + c0, in_block);
      } else {  // the ring wraps inside this tile
        alignas(32) int32_t held[kTile];
        for (int32_t j = 0; j < kTile; ++j) {
          const int32_t c = c0 + j >= b.n_cells ? c0 + j - b.n_cells : c0 + j;
          held[j] = j < left ? kv.cell_pos[c] : -1;
        }
        p = _mm256_load_si256(reinterpret_cast<const __m256i*>(held));
      }
      const __m256i seen = _mm256_andnot_si256(
          _mm256_cmpgt_epi32(p, pos), _mm256_and_si256(in_block, _mm256_cmpgt_epi32(p, below)));
      b.visible[t] = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(seen)));
    }
  }

  static void round_queries(const float* in, int32_t n, bool to_f16, float* out) {
    for (int32_t i = 0; i < n; i += 8) {
      __m256 v = _mm256_loadu_ps(in + i);
      if (to_f16) v = _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
      _mm256_store_ps(out + i, v);
    }
  }

  // Scores of HN heads (queries q, head after head, hd apart) for the visible cells of every
  // tile: scores[h * stride + cell], -inf where the cell is not visible. `dots` holds 8 * 8 * HN
  // floats (32-byte aligned).
  template <Element E, int HN>
  static void key_scores(const Cells& b, const float* q, int32_t hd, float scale, float* dots,
                         float* scores, size_t stride) {
    const int32_t vecs = hd / 8;
    const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
    for (int32_t t = 0; t < b.n_tiles; ++t) {
      const unsigned m = b.visible[t];
      if (m == 0) {
        for (int h = 0; h < HN; ++h) _mm256_store_ps(scores + h * stride + t * kTile, neg_inf);
        continue;
      }
      for (int32_t j = 0; j < kTile; ++j) {
        __m256 acc[HN];
        for (int h = 0; h < HN; ++h) acc[h] = _mm256_setzero_ps();
        if ((m >> j) & 1) {
          const std::byte* row = b.key(t, j);
          for (int32_t d = 0; d < vecs; ++d) {
            const __m256 k = row_vector<E>(row, d);
            for (int h = 0; h < HN; ++h) {
              acc[h] = _mm256_fmadd_ps(k, _mm256_load_ps(q + h * hd + 8 * d), acc[h]);
            }
          }
        }
        for (int h = 0; h < HN; ++h) _mm256_store_ps(dots + (h * kTile + j) * 8, acc[h]);
      }
      const __m256 vscale = _mm256_set1_ps(scale);
      const __m256 visible = lane_mask(m);
      for (int h = 0; h < HN; ++h) {
        const __m256 s = reduce8(reinterpret_cast<const __m256*>(dots + h * kTile * 8));
        _mm256_store_ps(scores + h * stride + t * kTile,
                        _mm256_blendv_ps(neg_inf, _mm256_mul_ps(s, vscale), visible));
      }
    }
  }

  // Columns [8 c0, 8 (c0 + NC)) of out[h * hd + ...] = the sum over the visible cells of
  // weight[h * stride + cell] * value row, for HN heads: HN * NC accumulators in registers.
  template <Element E, int HN, int NC>
  static void value_chunk(const Cells& b, const float* weight, size_t stride, int32_t hd,
                          int32_t c0, float* out) {
    __m256 acc[HN][NC];
    for (int h = 0; h < HN; ++h) {
      for (int k = 0; k < NC; ++k) acc[h][k] = _mm256_setzero_ps();
    }
    for (int32_t t = 0; t < b.n_tiles; ++t) {
      const unsigned m = b.visible[t];
      for (int32_t j = 0; j < kTile; ++j) {
        if (((m >> j) & 1) == 0) continue;
        const std::byte* row = b.value(t, j);
        __m256 v[NC];
        for (int k = 0; k < NC; ++k) v[k] = row_vector<E>(row, c0 + k);
        for (int h = 0; h < HN; ++h) {
          const __m256 w = _mm256_broadcast_ss(weight + h * stride + t * kTile + j);
          for (int k = 0; k < NC; ++k) acc[h][k] = _mm256_fmadd_ps(w, v[k], acc[h][k]);
        }
      }
    }
    for (int h = 0; h < HN; ++h) {
      for (int k = 0; k < NC; ++k) _mm256_storeu_ps(out + h * hd + 8 * (c0 + k), acc[h][k]);
    }
  }

  // Turns one head's scores into weights e^(s - max) in place; returns {max, sum}.
  static void softmax_weights(const Cells& b, float* s, float* max, float* sum) {
    const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
    __m256 vmax = neg_inf;
    for (int32_t t = 0; t < b.n_tiles; ++t)
      vmax = _mm256_max_ps(vmax, _mm256_load_ps(s + t * kTile));
    const float mx = hmax(vmax);
    *max = mx;
    __m256 vsum = _mm256_setzero_ps();
    if (mx != -__builtin_inff()) {
      const __m256 vm = _mm256_set1_ps(mx);
      for (int32_t t = 0; t < b.n_tiles; ++t) {
        const __m256 visible = lane_mask(b.visible[t]);
        const __m256 x = _mm256_and_ps(visible, _mm256_sub_ps(_mm256_load_ps(s + t * kTile), vm));
        const __m256 e = _mm256_and_ps(visible, exp_nonpositive(x));
        vsum = _mm256_add_ps(vsum, e);
        _mm256_store_ps(s + t * kTile, e);
      }
    }
    *sum = hsum(vsum);
  }
};

}  // namespace

void attend_decode_block_avx2(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv, int32_t i0,
                              int32_t i1, float* scratch, const AttentionPartial& partial) {
  attend_block<Avx2>(qs, hd, kv, i0, i1, scratch, partial);
}

}  // namespace inference::kernels::detail
