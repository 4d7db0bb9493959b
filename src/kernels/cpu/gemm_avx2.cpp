// kernels/cpu/gemm_avx2.cpp — the prefill GEMM over a weight panel (gemm_panel.hpp), AVX2.
//
// Same tiling as gemm_avx512.cpp, with a 16-row sub-panel as two 8-lane halves. AVX2 has no
// vpdpbusd: vpmaddubsw multiplies the unsigned panel quants by the broadcast signed activation
// bytes and adds neighbours into int16, two 4-element steps are added in int16, and vpmaddwd
// with ones widens to int32. The int16 sums cannot saturate for quants up to 63 (4 products of
// at most 63 * 127 = 32004); Q8_0's panel quants reach 255, so Q8_0 stays on the dot tiles on
// this level (see the table's gemm_panel_types).
//
// Compiled with -mavx2: reached only through avx2_kernel_table(), after the CPUID check. ODR
// rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage functions here.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm_panel.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

constexpr int kTileTokens = 4;

__m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

void store_rows(float* y, __m256 v, int64_t rows) {
  if (rows >= 8) {
    _mm256_storeu_ps(y, v);
    return;
  }
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  for (int64_t i = 0; i < rows; ++i) y[i] = tmp[i];
}

// Tokens slot0..slot0+NT-1 of activation tile `tile_index`.
template <int NT, int G>
void tile(const Panel& p, int64_t sub, const ActivationPlane& act, int64_t tile_index, int slot0,
          int64_t rows, float* y, int64_t y_stride) {
  const uint8_t* wq = p.quants + sub * p.groups * G * kPanelLanes;
  const float* wscale = p.scale + sub * p.groups * kPanelLanes;
  const float* wmin = p.min + sub * p.groups * kPanelLanes;
  const int8_t* aq = act.quants + tile_index * act.groups * kActTile * G + slot0 * G;
  const float* ascale = act.scale + tile_index * act.groups * kActTile + slot0;
  const float* asum = act.sum + tile_index * act.groups * kActTile + slot0;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT][2];
  for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < p.groups; ++g) {
    const int8_t* a = aq + g * kActTile * G;
    __m256i isum[NT][2];
    for (int t = 0; t < NT; ++t) isum[t][0] = isum[t][1] = _mm256_setzero_si256();
    const uint8_t* wg = wq + g * G * kPanelLanes;
    for (int k = 0; k < G / 4; k += 2) {
      const auto* w0 = reinterpret_cast<const __m256i*>(wg + k * 4 * kPanelLanes);
      const auto* w1 = reinterpret_cast<const __m256i*>(wg + (k + 1) * 4 * kPanelLanes);
      const __m256i w0lo = _mm256_load_si256(w0), w0hi = _mm256_load_si256(w0 + 1);
      const __m256i w1lo = _mm256_load_si256(w1), w1hi = _mm256_load_si256(w1 + 1);
      for (int t = 0; t < NT; ++t) {
        const __m256i b0 = broadcast4(a + t * G + 4 * k), b1 = broadcast4(a + t * G + 4 * k + 4);
        const __m256i lo =
            _mm256_add_epi16(_mm256_maddubs_epi16(w0lo, b0), _mm256_maddubs_epi16(w1lo, b1));
        const __m256i hi =
            _mm256_add_epi16(_mm256_maddubs_epi16(w0hi, b0), _mm256_maddubs_epi16(w1hi, b1));
        isum[t][0] = _mm256_add_epi32(isum[t][0], _mm256_madd_epi16(lo, ones));
        isum[t][1] = _mm256_add_epi32(isum[t][1], _mm256_madd_epi16(hi, ones));
      }
    }
    const float* ts = ascale + g * kActTile;
    const float* tm = asum + g * kActTile;
    for (int h = 0; h < 2; ++h) {
      const __m256 scale = _mm256_load_ps(wscale + g * kPanelLanes + 8 * h);
      const __m256 min = _mm256_load_ps(wmin + g * kPanelLanes + 8 * h);
      for (int t = 0; t < NT; ++t) {
        const __m256 s = _mm256_mul_ps(scale, _mm256_set1_ps(ts[t]));
        acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t][h]), s, acc[t][h]);
        acc[t][h] = _mm256_fnmadd_ps(min, _mm256_set1_ps(tm[t]), acc[t][h]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) {
    float* row = y + t * y_stride;
    store_rows(row, acc[t][0], rows);
    if (rows > 8) store_rows(row + 8, acc[t][1], rows - 8);
  }
}

template <int G>
void tiles(const Panel& p, int64_t sub, const ActivationPlane& act, int64_t tile_index, int slot0,
           int nt, int64_t rows, float* y, int64_t y_stride) {
  switch (nt) {
    case 4:
      return tile<4, G>(p, sub, act, tile_index, slot0, rows, y, y_stride);
    case 3:
      return tile<3, G>(p, sub, act, tile_index, slot0, rows, y, y_stride);
    case 2:
      return tile<2, G>(p, sub, act, tile_index, slot0, rows, y, y_stride);
    default:
      return tile<1, G>(p, sub, act, tile_index, slot0, rows, y, y_stride);
  }
}

}  // namespace

void gemm_panel_avx2(const Panel& p, const ActivationPlane& act, int64_t n_tokens,
                     int64_t valid_rows, float* y, int64_t y_stride) {
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokens) {
    const int nt = static_cast<int>(n_tokens - t0 < kTileTokens ? n_tokens - t0 : kTileTokens);
    for (int64_t sub = 0; sub < p.subpanels; ++sub) {
      const int64_t left = valid_rows - sub * kPanelLanes;
      if (left <= 0) break;
      const int64_t rows = left < kPanelLanes ? left : kPanelLanes;
      float* ys = y + t0 * y_stride + sub * kPanelLanes;
      const int64_t tile_index = t0 / kActTile;
      const int slot0 = static_cast<int>(t0 % kActTile);
      if (p.group == 16) {
        tiles<16>(p, sub, act, tile_index, slot0, nt, rows, ys, y_stride);
      } else {
        tiles<32>(p, sub, act, tile_index, slot0, nt, rows, ys, y_stride);
      }
    }
  }
}

}  // namespace inference::kernels::detail
