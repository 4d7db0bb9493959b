// kernels/cpu/gemm_avx512.cpp — the prefill GEMM over a weight panel (gemm_panel.hpp), AVX-512
// VNNI.
//
// A tile is 16 rows (one sub-panel, one int32 lane per row) × up to 8 tokens. Per group and per
// 4 elements: one 64-byte load of the panel quants, then for each token one vpdpbusd with 4
// activation bytes broadcast to all lanes. At the end of a group the exact int32 sums become
//     acc += float(sum) * (scale_row * scale_token) - min_row * sum_token
// (the format's dequantisation formula distributed over the products), so nothing is reduced
// horizontally and the panel quants are loaded once per 8 tokens. Packed weights keep smaller
// panels (packed_panel.hpp: nibbles, fifth-bit masks, no min array); their byte quants are
// rebuilt in registers, so the sums and the result are the byte panel's.
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
#include "kernels/cpu/packed_panel.hpp"

namespace inference::kernels::detail {
namespace {

__m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// How far ahead of its loads a tile of many tokens prefetches a packed panel (kStreamed below).
// With 4 or more tokens a tile computes long enough between loads that the hardware prefetcher
// alone leaves a core waiting on memory when the panel streams from DRAM (packed weights in a
// batched decode): one thread reached 13.5 GB/s of panel with 8 tokens, 17-19 GB/s with this
// prefetch, the same in L2 (kernels_bench-style harness, docs/PERFORMANCE.md). With 1-2 tokens the
// loop is memory-bound already and the extra loads cost (22.5 -> 18 GB/s at 1 token), so none
// there.
constexpr int kPanelPrefetchBytes = 4096;
constexpr int kPanelPrefetchMinTokens = 4;

// The byte quants of k-step `k` of a group, from whatever form the panel keeps (packed_panel.hpp).
// For the nibble forms vector j serves k-steps j and j + G/8; the caller walks k in that order.
template <int G, PanelQuants F>
__m512i quants(const uint8_t* wg, const uint64_t* fifth, int k) {
  if constexpr (F == PanelQuants::bytes) {
    return _mm512_load_si512(wg + k * 4 * kPanelLanes);
  } else {
    const __m512i v = _mm512_load_si512(wg + (k % (G / 8)) * 4 * kPanelLanes);
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512i q =
        k < G / 8 ? _mm512_and_si512(v, low) : _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
    if constexpr (F == PanelQuants::nibbles_fifth_bit) {
      q = _mm512_mask_add_epi8(q, _cvtu64_mask64(fifth[k]), q, _mm512_set1_epi8(0x10));
    }
    return q;
  }
}

// Bytes of panel quants per k-step (64 for bytes, 32 for the nibble forms).
template <PanelQuants F>
constexpr int kStepBytes = F == PanelQuants::bytes ? 4 * kPanelLanes : 2 * kPanelLanes;

// Only packed weights take the nibble forms or drop the min (a prompt's panel, unpacked per call,
// is bytes with its mins): their panels stream from memory, the prompt path's sit in L2, where a
// prefetch only takes load slots (pp512 measured 2-10% slower with it).
template <PanelQuants F, bool kDerivedMin>
constexpr bool kStreamed = kDerivedMin || F != PanelQuants::bytes;

// kDerivedMin: the panel keeps no min array, min = min_per_scale * scale (exact, see
// packed_panel.hpp).
template <int NT, int G, PanelQuants F, bool kDerivedMin>
void tile(const Panel& p, int64_t sub, const ActivationPlane& act, int64_t tile_index,
          __mmask16 rows, float* y, int64_t y_stride) {
  const uint8_t* wq = p.quants + sub * p.groups * G / 4 * kStepBytes<F>;
  const uint64_t* wfifth =
      F == PanelQuants::nibbles_fifth_bit ? p.fifth + sub * p.groups * G / 4 : nullptr;
  const float* wscale = p.scale + sub * p.groups * kPanelLanes;
  const float* wmin = kDerivedMin ? nullptr : p.min + sub * p.groups * kPanelLanes;
  const __m512 min_per_scale = _mm512_set1_ps(p.min_per_scale);
  const int8_t* aq = act.quants + tile_index * act.groups * kActTile * G;
  const float* ascale = act.scale + tile_index * act.groups * kActTile;
  const float* asum = act.sum + tile_index * act.groups * kActTile;
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g < p.groups; ++g) {
    const int8_t* a = aq + g * kActTile * G;
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
    const uint8_t* wg = wq + g * G / 4 * kStepBytes<F>;
    const uint64_t* fifth = F == PanelQuants::nibbles_fifth_bit ? wfifth + g * G / 4 : nullptr;
    for (int k = 0; k < G / 4; ++k) {
      if constexpr (kStreamed<F, kDerivedMin> && NT >= kPanelPrefetchMinTokens) {
        if (F == PanelQuants::bytes || k < G / 8) {
          _mm_prefetch(
              reinterpret_cast<const char*>(wg + k * 4 * kPanelLanes + kPanelPrefetchBytes),
              _MM_HINT_T0);
        }
      }
      const __m512i w = quants<G, F>(wg, fifth, k);
      for (int t = 0; t < NT; ++t) {
        isum[t] = _mm512_dpbusd_epi32(isum[t], w, broadcast4(a + t * G + 4 * k));
      }
    }
    const __m512 scale = _mm512_load_ps(wscale + g * kPanelLanes);
    const __m512 min =
        kDerivedMin ? _mm512_mul_ps(scale, min_per_scale) : _mm512_load_ps(wmin + g * kPanelLanes);
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

template <int G, PanelQuants F, bool kDerivedMin>
void tiles(const Panel& p, int64_t sub, const ActivationPlane& act, int64_t tile_index, int nt,
           __mmask16 rows, float* y, int64_t y_stride) {
  using Fn =
      void (*)(const Panel&, int64_t, const ActivationPlane&, int64_t, __mmask16, float*, int64_t);
  static constexpr Fn kByTokens[kActTile] = {
      tile<1, G, F, kDerivedMin>, tile<2, G, F, kDerivedMin>, tile<3, G, F, kDerivedMin>,
      tile<4, G, F, kDerivedMin>, tile<5, G, F, kDerivedMin>, tile<6, G, F, kDerivedMin>,
      tile<7, G, F, kDerivedMin>, tile<8, G, F, kDerivedMin>};
  kByTokens[nt - 1](p, sub, act, tile_index, rows, y, y_stride);
}

template <int G, PanelQuants F, bool kDerivedMin>
void panel_product(const Panel& p, const ActivationPlane& act, int64_t n_tokens, int64_t valid_rows,
                   float* y, int64_t y_stride) {
  // Token tiles outside, sub-panels inside: the tile's activations (8 rows of cols bytes) stay
  // in L1 while the panel streams from L2.
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kActTile) {
    const int nt = static_cast<int>(n_tokens - t0 < kActTile ? n_tokens - t0 : kActTile);
    for (int64_t sub = 0; sub < p.subpanels; ++sub) {
      const int64_t left = valid_rows - sub * kPanelLanes;
      if (left <= 0) break;
      const __mmask16 rows = left >= kPanelLanes ? static_cast<__mmask16>(0xFFFF)
                                                 : static_cast<__mmask16>((1u << left) - 1);
      tiles<G, F, kDerivedMin>(p, sub, act, t0 / kActTile, nt, rows,
                               y + t0 * y_stride + sub * kPanelLanes, y_stride);
    }
  }
}

template <PanelQuants F>
void panel_product_of_form(const Panel& p, const ActivationPlane& act, int64_t n_tokens,
                           int64_t valid_rows, float* y, int64_t y_stride) {
  if (p.min == nullptr) {
    panel_product<32, F, true>(p, act, n_tokens, valid_rows, y, y_stride);
  } else {
    panel_product<32, F, false>(p, act, n_tokens, valid_rows, y, y_stride);
  }
}

}  // namespace

void gemm_panel_avx512(const Panel& p, const ActivationPlane& act, int64_t n_tokens,
                       int64_t valid_rows, float* y, int64_t y_stride) {
  // Groups of 16 (Q6_K) only come as bytes; the nibble forms only with groups of 32.
  if (p.group == 16) {
    if (p.min == nullptr) {
      panel_product<16, PanelQuants::bytes, true>(p, act, n_tokens, valid_rows, y, y_stride);
    } else {
      panel_product<16, PanelQuants::bytes, false>(p, act, n_tokens, valid_rows, y, y_stride);
    }
    return;
  }
  switch (p.form) {
    case PanelQuants::bytes:
      return panel_product_of_form<PanelQuants::bytes>(p, act, n_tokens, valid_rows, y, y_stride);
    case PanelQuants::nibbles:
      return panel_product_of_form<PanelQuants::nibbles>(p, act, n_tokens, valid_rows, y, y_stride);
    case PanelQuants::nibbles_fifth_bit:
      return panel_product_of_form<PanelQuants::nibbles_fifth_bit>(p, act, n_tokens, valid_rows, y,
                                                                   y_stride);
  }
}

}  // namespace inference::kernels::detail
