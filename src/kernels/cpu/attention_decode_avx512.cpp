// kernels/cpu/attention_decode_avx512.cpp — attend_decode_block (attention_decode.hpp) with
// AVX-512.
//
// Two passes over the block, 16 cells at a time. Keys: the 16 rows are converted to float into
// a small tile (L1), then for each query head of the group the 16 dot products accumulate in 16
// vectors that one transpose-and-add tree reduces to the 16 scores (about 3 operations per
// score instead of a full horizontal sum each). Values: the 16 rows are converted into the tile
// and every head adds weight * row into its output, the weights being e^(s - block max).
// So each key and value is read from memory once per token per KV head and converted once for
// the whole group.
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

namespace inference::kernels::detail {
namespace {

constexpr int kTile = 16;

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

// One row of hd elements as floats into `out` (64-byte aligned).
void convert_row(const std::byte* row, const KvHeadView& kv, int32_t hd, float* out) {
  if (kv.q8_0) {
    for (int32_t b = 0; b < hd / 32; ++b) {
      const std::byte* block = row + static_cast<size_t>(b) * 34;
      uint16_t d16;
      std::memcpy(&d16, block, 2);
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(d16));
      const auto* qs = reinterpret_cast<const __m128i*>(block + 2);
      const __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(qs)));
      const __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(qs + 1)));
      _mm512_store_ps(out + 32 * b, _mm512_mul_ps(d, lo));
      _mm512_store_ps(out + 32 * b + 16, _mm512_mul_ps(d, hi));
    }
  } else if (kv.f16) {
    const auto* h = reinterpret_cast<const __m256i*>(row);
    for (int32_t d = 0; d < hd / 16; ++d) {
      _mm512_store_ps(out + 16 * d, _mm512_cvtph_ps(_mm256_loadu_si256(h + d)));
    }
  } else {
    const auto* f = reinterpret_cast<const float*>(row);
    for (int32_t d = 0; d < hd; d += 16) _mm512_store_ps(out + d, _mm512_loadu_ps(f + d));
  }
}

float* align64(float* p) {
  return p + (16 - reinterpret_cast<uintptr_t>(p) / sizeof(float) % 16) % 16;
}

}  // namespace

void attend_decode_block_avx512(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv,
                                int32_t i0, int32_t i1, float* scratch,
                                const AttentionPartial& partial) {
  const int32_t n = i1 - i0, heads = qs.n_heads;
  const int32_t n_tiles = (n + kTile - 1) / kTile;
  // Scores are kept for whole tiles (padding -inf), so every loop below runs on full vectors.
  float* scores = align64(scratch);  // [heads][n_tiles * 16]
  const size_t stride = static_cast<size_t>(n_tiles) * kTile;
  float* q = align64(scores + static_cast<size_t>(heads) * stride);  // [heads][hd]
  float* tile = align64(q + static_cast<size_t>(heads) * hd);        // [16][hd]
  for (int32_t i = 0; i < heads * hd; i += 16) {
    __m512 v = _mm512_loadu_ps(qs.q + i);
    if (kv.f16) {
      v = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    _mm512_store_ps(q + i, v);
  }
  const int32_t lowest = qs.window > 0 ? qs.pos - qs.window + 1 : 0;
  const size_t cell_bytes = kv_cell_bytes(kv);
  const auto* k_base = static_cast<const std::byte*>(kv.k);
  const auto* v_base = static_cast<const std::byte*>(kv.v);
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  const __m512 scale = _mm512_set1_ps(qs.scale);
  const int32_t vecs = hd / 16;

  // The cells of tile t and which of them are visible.
  int32_t cells[kTile];
  auto tile_cells = [&](int32_t t) -> __mmask16 {
    __mmask16 m = 0;
    for (int32_t j = 0; j < kTile; ++j) {
      const int32_t i = i0 + t * kTile + j;
      if (i >= i1) {
        cells[j] = -1;
        continue;
      }
      const int32_t c =
          kv.first_cell + i >= kv.n_cells ? kv.first_cell + i - kv.n_cells : kv.first_cell + i;
      const int32_t p = kv.cell_pos[c];
      cells[j] = c;
      if (p >= 0 && p >= lowest && p <= qs.pos) m = static_cast<__mmask16>(m | (1u << j));
    }
    return m;
  };

  // Pass 1: scores, and the running max of each head.
  __mmask16 masks[kDecodeBlockCells / kTile];
  for (int32_t t = 0; t < n_tiles; ++t) {
    const __mmask16 m = tile_cells(t);
    masks[t] = m;
    if (m == 0) {
      for (int32_t h = 0; h < heads; ++h) _mm512_store_ps(scores + h * stride + t * kTile, neg_inf);
      continue;
    }
    for (int32_t j = 0; j < kTile; ++j) {
      if ((m >> j) & 1) convert_row(k_base + cells[j] * cell_bytes, kv, hd, tile + j * hd);
    }
    for (int32_t h = 0; h < heads; ++h) {
      const float* qh = q + static_cast<size_t>(h) * hd;
      __m512 acc[kTile];
      for (int32_t j = 0; j < kTile; ++j) {
        acc[j] = _mm512_setzero_ps();
        if (((m >> j) & 1) == 0) continue;
        const float* kr = tile + j * hd;
        for (int32_t d = 0; d < vecs; ++d) {
          acc[j] =
              _mm512_fmadd_ps(_mm512_load_ps(qh + 16 * d), _mm512_load_ps(kr + 16 * d), acc[j]);
        }
      }
      const __m512 s = _mm512_mask_mov_ps(neg_inf, m, _mm512_mul_ps(reduce16(acc), scale));
      _mm512_store_ps(scores + h * stride + t * kTile, s);
    }
  }

  // Weights e^(s - max) per head; the block's max and sum go to the partial.
  for (int32_t h = 0; h < heads; ++h) {
    float* s = scores + h * stride;
    __m512 vmax = neg_inf;
    for (int32_t t = 0; t < n_tiles; ++t) vmax = _mm512_max_ps(vmax, _mm512_load_ps(s + t * kTile));
    const float mx = _mm512_reduce_max_ps(vmax);
    partial.max[h] = mx;
    __m512 vsum = _mm512_setzero_ps();
    if (mx != -__builtin_inff()) {
      const __m512 vm = _mm512_set1_ps(mx);
      for (int32_t t = 0; t < n_tiles; ++t) {
        const __m512 e = _mm512_maskz_mov_ps(
            masks[t],
            exp_nonpositive(_mm512_maskz_sub_ps(masks[t], _mm512_load_ps(s + t * kTile), vm)));
        vsum = _mm512_add_ps(vsum, e);
        _mm512_store_ps(s + t * kTile, e);
      }
    }
    partial.sum[h] = _mm512_reduce_add_ps(vsum);
    for (int32_t d = 0; d < hd; d += 16)
      _mm512_storeu_ps(partial.out + h * hd + d, _mm512_setzero_ps());
  }

  // Pass 2: out_h += weight * value, 16 cells at a time, 4 vectors of the row per step.
  for (int32_t t = 0; t < n_tiles; ++t) {
    const __mmask16 m = masks[t];
    if (m == 0) continue;
    tile_cells(t);
    int32_t last = 0;
    for (int32_t j = 0; j < kTile; ++j) {
      if ((m >> j) & 1) {
        convert_row(v_base + cells[j] * cell_bytes, kv, hd, tile + j * hd);
        last = j + 1;
      } else {
        // Weight 0 for an invisible cell, but its row must be finite (0 * NaN is NaN).
        for (int32_t d = 0; d < hd; d += 16)
          _mm512_store_ps(tile + j * hd + d, _mm512_setzero_ps());
      }
    }
    for (int32_t h = 0; h < heads; ++h) {
      const float* w = scores + h * stride + t * kTile;
      float* out = partial.out + h * hd;
      for (int32_t d0 = 0; d0 < hd; d0 += 64) {
        const int32_t nv = hd - d0 >= 64 ? 4 : (hd - d0) / 16;
        __m512 acc[4];
        for (int32_t k = 0; k < nv; ++k) acc[k] = _mm512_loadu_ps(out + d0 + 16 * k);
        for (int32_t j = 0; j < last; ++j) {
          const __m512 wj = _mm512_set1_ps(w[j]);
          const float* vr = tile + j * hd + d0;
          for (int32_t k = 0; k < nv; ++k) {
            acc[k] = _mm512_fmadd_ps(wj, _mm512_load_ps(vr + 16 * k), acc[k]);
          }
        }
        for (int32_t k = 0; k < nv; ++k) _mm512_storeu_ps(out + d0 + 16 * k, acc[k]);
      }
    }
  }
}

}  // namespace inference::kernels::detail
