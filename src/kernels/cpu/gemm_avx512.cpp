// kernels/cpu/gemm_avx512.cpp — the prefill GEMM over a weight panel (gemm_panel.hpp), AVX-512
// VNNI.
//
// A tile is 16 rows (one sub-panel, one int32 lane per row) × up to 8 tokens. Per group and per
// 4 elements: one 64-byte load of the panel quants, then for each token one vpdpbusd with 4
// activation bytes broadcast to all lanes. At the end of a group the exact int32 sums become
//     acc += float(sum) * (scale_row * scale_token) - min_row * sum_token
// (the format's dequantisation formula distributed over the products), so nothing is reduced
// horizontally and the panel quants are loaded once per 8 tokens.
//
// Compiled with -mavx512*: reached only through avx512_kernel_table(), after the CPUID check.
// ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage functions here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm_panel.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

__m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

template <int NT, int G>
void tile(const Panel& p, int64_t sub, const ActivationPlane& act, int64_t tile_index,
          __mmask16 rows, float* y, int64_t y_stride) {
  const uint8_t* wq = p.quants + sub * p.groups * G * kPanelLanes;
  const float* wscale = p.scale + sub * p.groups * kPanelLanes;
  const float* wmin = p.min + sub * p.groups * kPanelLanes;
  const int8_t* aq = act.quants + tile_index * act.groups * kActTile * G;
  const float* ascale = act.scale + tile_index * act.groups * kActTile;
  const float* asum = act.sum + tile_index * act.groups * kActTile;
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g < p.groups; ++g) {
    const int8_t* a = aq + g * kActTile * G;
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
    const uint8_t* wg = wq + g * G * kPanelLanes;
    for (int k = 0; k < G / 4; ++k) {
      const __m512i w = _mm512_load_si512(wg + k * 4 * kPanelLanes);
      for (int t = 0; t < NT; ++t) {
        isum[t] = _mm512_dpbusd_epi32(isum[t], w, broadcast4(a + t * G + 4 * k));
      }
    }
    const __m512 scale = _mm512_load_ps(wscale + g * kPanelLanes);
    const __m512 min = _mm512_load_ps(wmin + g * kPanelLanes);
    const float* ts = ascale + g * kActTile;
    const float* tm = asum + g * kActTile;
    for (int t = 0; t < NT; ++t) {
      const __m512 s = _mm512_mul_ps(scale, _mm512_set1_ps(ts[t]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), s, acc[t]);
      acc[t] = _mm512_fnmadd_ps(min, _mm512_set1_ps(tm[t]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * y_stride, rows, acc[t]);
}

template <int G>
void tiles(const Panel& p, int64_t sub, const ActivationPlane& act, int64_t tile_index, int nt,
           __mmask16 rows, float* y, int64_t y_stride) {
  switch (nt) {
    case 8:
      return tile<8, G>(p, sub, act, tile_index, rows, y, y_stride);
    case 7:
      return tile<7, G>(p, sub, act, tile_index, rows, y, y_stride);
    case 6:
      return tile<6, G>(p, sub, act, tile_index, rows, y, y_stride);
    case 5:
      return tile<5, G>(p, sub, act, tile_index, rows, y, y_stride);
    case 4:
      return tile<4, G>(p, sub, act, tile_index, rows, y, y_stride);
    case 3:
      return tile<3, G>(p, sub, act, tile_index, rows, y, y_stride);
    case 2:
      return tile<2, G>(p, sub, act, tile_index, rows, y, y_stride);
    default:
      return tile<1, G>(p, sub, act, tile_index, rows, y, y_stride);
  }
}

}  // namespace

void gemm_panel_avx512(const Panel& p, const ActivationPlane& act, int64_t n_tokens,
                       int64_t valid_rows, float* y, int64_t y_stride) {
  // Token tiles outside, sub-panels inside: the tile's activations (8 rows of cols bytes) stay
  // in L1 while the panel streams from L2.
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kActTile) {
    const int nt = static_cast<int>(n_tokens - t0 < kActTile ? n_tokens - t0 : kActTile);
    for (int64_t sub = 0; sub < p.subpanels; ++sub) {
      const int64_t left = valid_rows - sub * kPanelLanes;
      if (left <= 0) break;
      const __mmask16 rows = left >= kPanelLanes ? static_cast<__mmask16>(0xFFFF)
                                                 : static_cast<__mmask16>((1u << left) - 1);
      float* ys = y + t0 * y_stride + sub * kPanelLanes;
      if (p.group == 16) {
        tiles<16>(p, sub, act, t0 / kActTile, nt, rows, ys, y_stride);
      } else {
        tiles<32>(p, sub, act, t0 / kActTile, nt, rows, ys, y_stride);
      }
    }
  }
}

}  // namespace inference::kernels::detail
