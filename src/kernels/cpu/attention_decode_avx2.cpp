// kernels/cpu/attention_decode_avx2.cpp — attend_decode_block (attention_decode.hpp) with AVX2:
// the AVX-512 variant's structure (attention_decode_avx512.cpp) with tiles of 8 cells, the 8
// dot products of a head reduced by a tree of horizontal adds.
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

namespace inference::kernels::detail {
namespace {

constexpr int kTile = 8;

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

// One row of hd elements as floats into `out` (32-byte aligned).
void convert_row(const std::byte* row, const KvHeadView& kv, int32_t hd, float* out) {
  if (kv.q8_0) {
    for (int32_t b = 0; b < hd / 32; ++b) {
      const std::byte* block = row + static_cast<size_t>(b) * 34;
      uint16_t d16;
      std::memcpy(&d16, block, 2);
      const __m256 d = _mm256_set1_ps(_cvtsh_ss(d16));
      const std::byte* qs = block + 2;
      for (int k = 0; k < 4; ++k) {
        int64_t eight;
        std::memcpy(&eight, qs + 8 * k, 8);
        const __m256i w = _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(eight));
        _mm256_store_ps(out + 32 * b + 8 * k, _mm256_mul_ps(d, _mm256_cvtepi32_ps(w)));
      }
    }
  } else if (kv.f16) {
    const auto* h = reinterpret_cast<const __m128i*>(row);
    for (int32_t d = 0; d < hd / 8; ++d) {
      _mm256_store_ps(out + 8 * d, _mm256_cvtph_ps(_mm_loadu_si128(h + d)));
    }
  } else {
    const auto* f = reinterpret_cast<const float*>(row);
    for (int32_t d = 0; d < hd; d += 8) _mm256_store_ps(out + d, _mm256_loadu_ps(f + d));
  }
}

float* align64(float* p) {
  return p + (16 - reinterpret_cast<uintptr_t>(p) / sizeof(float) % 16) % 16;
}

// All-ones lanes where bit j of m is set.
__m256 lane_mask(unsigned m) {
  const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i set = _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(m)), bits);
  return _mm256_castsi256_ps(_mm256_cmpeq_epi32(set, bits));
}

}  // namespace

void attend_decode_block_avx2(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv, int32_t i0,
                              int32_t i1, float* scratch, const AttentionPartial& partial) {
  const int32_t n = i1 - i0, heads = qs.n_heads;
  const int32_t n_tiles = (n + kTile - 1) / kTile;
  float* scores = align64(scratch);  // [heads][n_tiles * 8]
  const size_t stride = static_cast<size_t>(n_tiles) * kTile;
  float* q = align64(scores + static_cast<size_t>(heads) * stride);  // [heads][hd]
  float* tile = align64(q + static_cast<size_t>(heads) * hd);        // [8][hd]
  for (int32_t i = 0; i < heads * hd; i += 8) {
    __m256 v = _mm256_loadu_ps(qs.q + i);
    if (kv.f16) v = _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    _mm256_store_ps(q + i, v);
  }
  const int32_t lowest = qs.window > 0 ? qs.pos - qs.window + 1 : 0;
  const size_t cell_bytes = kv_cell_bytes(kv);
  const auto* k_base = static_cast<const std::byte*>(kv.k);
  const auto* v_base = static_cast<const std::byte*>(kv.v);
  const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
  const __m256 scale = _mm256_set1_ps(qs.scale);
  const int32_t vecs = hd / 8;

  int32_t cells[kTile];
  auto tile_cells = [&](int32_t t) -> unsigned {
    unsigned m = 0;
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
      if (p >= 0 && p >= lowest && p <= qs.pos) m |= 1u << j;
    }
    return m;
  };

  unsigned masks[kDecodeBlockCells / kTile];
  for (int32_t t = 0; t < n_tiles; ++t) {
    const unsigned m = tile_cells(t);
    masks[t] = m;
    if (m == 0) {
      for (int32_t h = 0; h < heads; ++h) _mm256_store_ps(scores + h * stride + t * kTile, neg_inf);
      continue;
    }
    for (int32_t j = 0; j < kTile; ++j) {
      if ((m >> j) & 1) convert_row(k_base + cells[j] * cell_bytes, kv, hd, tile + j * hd);
    }
    const __m256 visible = lane_mask(m);
    for (int32_t h = 0; h < heads; ++h) {
      const float* qh = q + static_cast<size_t>(h) * hd;
      __m256 acc[kTile];
      for (int32_t j = 0; j < kTile; ++j) {
        acc[j] = _mm256_setzero_ps();
        if (((m >> j) & 1) == 0) continue;
        const float* kr = tile + j * hd;
        for (int32_t d = 0; d < vecs; ++d) {
          acc[j] = _mm256_fmadd_ps(_mm256_load_ps(qh + 8 * d), _mm256_load_ps(kr + 8 * d), acc[j]);
        }
      }
      const __m256 s = _mm256_blendv_ps(neg_inf, _mm256_mul_ps(reduce8(acc), scale), visible);
      _mm256_store_ps(scores + h * stride + t * kTile, s);
    }
  }

  for (int32_t h = 0; h < heads; ++h) {
    float* s = scores + h * stride;
    __m256 vmax = neg_inf;
    for (int32_t t = 0; t < n_tiles; ++t) vmax = _mm256_max_ps(vmax, _mm256_load_ps(s + t * kTile));
    const float mx = hmax(vmax);
    partial.max[h] = mx;
    __m256 vsum = _mm256_setzero_ps();
    if (mx != -__builtin_inff()) {
      const __m256 vm = _mm256_set1_ps(mx);
      for (int32_t t = 0; t < n_tiles; ++t) {
        const __m256 visible = lane_mask(masks[t]);
        const __m256 x = _mm256_and_ps(visible, _mm256_sub_ps(_mm256_load_ps(s + t * kTile), vm));
        const __m256 e = _mm256_and_ps(visible, exp_nonpositive(x));
        vsum = _mm256_add_ps(vsum, e);
        _mm256_store_ps(s + t * kTile, e);
      }
    }
    partial.sum[h] = hsum(vsum);
    for (int32_t d = 0; d < hd; d += 8)
      _mm256_storeu_ps(partial.out + h * hd + d, _mm256_setzero_ps());
  }

  for (int32_t t = 0; t < n_tiles; ++t) {
    const unsigned m = masks[t];
    if (m == 0) continue;
    tile_cells(t);
    int32_t last = 0;
    for (int32_t j = 0; j < kTile; ++j) {
      if ((m >> j) & 1) {
        convert_row(v_base + cells[j] * cell_bytes, kv, hd, tile + j * hd);
        last = j + 1;
      } else {
        for (int32_t d = 0; d < hd; d += 8) _mm256_store_ps(tile + j * hd + d, _mm256_setzero_ps());
      }
    }
    for (int32_t h = 0; h < heads; ++h) {
      const float* w = scores + h * stride + t * kTile;
      float* out = partial.out + h * hd;
      for (int32_t d0 = 0; d0 < hd; d0 += 32) {
        const int32_t nv = hd - d0 >= 32 ? 4 : (hd - d0) / 8;
        __m256 acc[4];
        for (int32_t k = 0; k < nv; ++k) acc[k] = _mm256_loadu_ps(out + d0 + 8 * k);
        for (int32_t j = 0; j < last; ++j) {
          const __m256 wj = _mm256_set1_ps(w[j]);
          const float* vr = tile + j * hd + d0;
          for (int32_t k = 0; k < nv; ++k) {
            acc[k] = _mm256_fmadd_ps(wj, _mm256_load_ps(vr + 8 * k), acc[k]);
          }
        }
        for (int32_t k = 0; k < nv; ++k) _mm256_storeu_ps(out + d0 + 8 * k, acc[k]);
      }
    }
  }
}

}  // namespace inference::kernels::detail
