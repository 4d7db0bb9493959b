// kernels/cpu/gemm_unpack_avx512.cpp — weight panels (gemm_panel.hpp) with AVX-512 gathers.
//
// A panel vector holds 4 quants of each of 16 rows; the scalar unpacker writes it one 4-byte
// word at a time. Here one vpgatherdd fetches the same 4 packed bytes from each of the 16 rows,
// and the bit manipulation of gemm_unpack.cpp runs on all 16 words at once: for Q4_K one gather
// yields two panel vectors (low and high nibbles). Scales and mins likewise: the F16 scales of
// 16 rows in one conversion, the 6-bit K-quant scales unpacked lane-wise, with the same float
// operations as the scalar unpacker (equal bits; a test checks it). Rows past the matrix (a
// partial sub-panel) gather nothing and store zeros.
//
// Compiled with -mavx512*: reached only through avx512_kernel_table(), after the CPUID check.
// ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage functions here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

using formats::GgmlType;

struct SubPanel {
  const std::byte* rows;  ///< row 0 of the sub-panel
  __m512i offsets;        ///< byte offset of each row
  __mmask16 live;         ///< rows inside the matrix
  uint8_t* out;           ///< the sub-panel's quants
  float* scale;           ///< the sub-panel's scales
  float* min;             ///< and mins
  int group;

  __m512i gather(size_t at) const {
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, offsets, rows + at, 1);
  }
  // Quants 4k..4k+3 of group g.
  void store(int64_t g, int k, __m512i v) const {
    _mm512_store_si512(out + (g * group / 4 + k) * 4 * kPanelLanes, v);
  }
  void store_scale_min(int64_t g, __m512 s, __m512 m) const {
    _mm512_store_ps(scale + g * kPanelLanes, s);
    _mm512_store_ps(min + g * kPanelLanes, m);
  }
};

// The F16 in the low (or high) half of each lane, as float.
__m512 half_to_float(__m512i v, bool high) {
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(high ? _mm512_srli_epi32(v, 16) : v));
}
// Byte i of each lane, zero-extended.
__m512i byte_of(__m512i v, int i) {
  return _mm512_and_si512(_mm512_srli_epi32(v, 8 * i), _mm512_set1_epi32(0xFF));
}
// d of a 32-element block at `at`: scale d, min offset * d.
void block_scale(const SubPanel& s, int64_t b, size_t at, float offset) {
  const __m512 d = half_to_float(s.gather(at), false);
  s.store_scale_min(b, d, _mm512_mul_ps(_mm512_set1_ps(offset), d));
}

__m512i low_nibbles(__m512i v) {
  return _mm512_and_si512(v, _mm512_set1_epi32(0x0F0F0F0F));
}
__m512i high_nibbles(__m512i v) {
  return _mm512_and_si512(_mm512_srli_epi32(v, 4), _mm512_set1_epi32(0x0F0F0F0F));
}
// Bit `bit` of each byte of h, moved to bit 4 (the fifth bit of a quant).
__m512i fifth_bits(__m512i h, int bit) {
  return _mm512_slli_epi32(
      _mm512_and_si512(_mm512_srli_epi32(h, bit), _mm512_set1_epi32(0x01010101)), 4);
}
// Bits 0-3 of each lane's n, spread to bit 4 of bytes 0-3 (the fifth bits of 4 Q5_0 quants):
// n * 0x00204081 puts bit i at bit 8i.
__m512i spread_nibble(__m512i n) {
  const __m512i spread = _mm512_mullo_epi32(_mm512_and_si512(n, _mm512_set1_epi32(0xF)),
                                            _mm512_set1_epi32(0x00204081));
  return _mm512_slli_epi32(_mm512_and_si512(spread, _mm512_set1_epi32(0x01010101)), 4);
}

void q8_0(const SubPanel& s, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const size_t at = static_cast<size_t>(b) * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs);
    block_scale(s, b, static_cast<size_t>(b) * sizeof(BlockQ8_0), 128.f);
    for (int k = 0; k < 8; ++k) {
      s.store(b, k,
              _mm512_maskz_xor_epi32(s.live, s.gather(at + 4 * k),
                                     _mm512_set1_epi32(static_cast<int>(0x80808080u))));
    }
  }
}

// Q4_0/Q5_0 (weight = d·(q − 8 or 16)) and, kMin, Q4_1/Q5_1 (weight = d·q + m: min = −m).
template <typename Block, bool kFive, bool kMin = false>
void q32(const SubPanel& s, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const size_t block = static_cast<size_t>(b) * sizeof(Block);
    if constexpr (kMin) {
      const __m512i dm = s.gather(block);  // d in the low half of each lane, m in the high
      s.store_scale_min(b, half_to_float(dm, false),
                        _mm512_sub_ps(_mm512_setzero_ps(), half_to_float(dm, true)));
    } else {
      block_scale(s, b, block, kFive ? 16.f : 8.f);
    }
    __m512i qh = _mm512_setzero_si512();
    if constexpr (kFive) qh = s.gather(block + offsetof(Block, qh));
    for (int k = 0; k < 4; ++k) {
      const __m512i w = s.gather(block + offsetof(Block, qs) + 4 * k);
      __m512i lo = low_nibbles(w), hi = high_nibbles(w);
      if constexpr (kFive) {
        lo = _mm512_or_si512(lo, spread_nibble(_mm512_srli_epi32(qh, 4 * k)));
        hi = _mm512_or_si512(hi, spread_nibble(_mm512_srli_epi32(qh, 16 + 4 * k)));
      }
      s.store(b, k, lo);
      s.store(b, k + 4, hi);
    }
  }
}

template <bool kFive>
void q45_k(const SubPanel& s, int64_t nb) {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  for (int64_t b = 0; b < nb; ++b) {
    const size_t block = static_cast<size_t>(b) * sizeof(Block);
    // d and dmin, then the 12 packed scale bytes as three words: sub-blocks 0-3 take the low
    // 6 bits of bytes 0-3 (scales) and 4-7 (mins); 4-7 take 4 bits from bytes 8-11 and their
    // top 2 bits from the spare high bits of bytes 0-7.
    const __m512i dd = s.gather(block);
    const __m512 d = half_to_float(dd, false), dmin = half_to_float(dd, true);
    const __m512i w0 = s.gather(block + 4), w1 = s.gather(block + 8), w2 = s.gather(block + 12);
    const __m512i six = _mm512_set1_epi32(63), four = _mm512_set1_epi32(0xF);
    for (int j = 0; j < 8; ++j) {
      __m512i sc, m;
      if (j < 4) {
        sc = _mm512_and_si512(byte_of(w0, j), six);
        m = _mm512_and_si512(byte_of(w1, j), six);
      } else {
        sc = _mm512_or_si512(_mm512_and_si512(byte_of(w2, j - 4), four),
                             _mm512_slli_epi32(_mm512_srli_epi32(byte_of(w0, j - 4), 6), 4));
        m = _mm512_or_si512(_mm512_srli_epi32(byte_of(w2, j - 4), 4),
                            _mm512_slli_epi32(_mm512_srli_epi32(byte_of(w1, j - 4), 6), 4));
      }
      s.store_scale_min(8 * b + j, _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)),
                        _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m)));
    }
    for (int k = 0; k < 8; ++k) {
      __m512i h = _mm512_setzero_si512();
      if constexpr (kFive) h = s.gather(block + offsetof(BlockQ5_K, qh) + 4 * k);
      for (int c = 0; c < 4; ++c) {
        const __m512i w = s.gather(block + offsetof(Block, qs) + 32 * c + 4 * k);
        __m512i lo = low_nibbles(w), hi = high_nibbles(w);
        if constexpr (kFive) {
          lo = _mm512_or_si512(lo, fifth_bits(h, 2 * c));
          hi = _mm512_or_si512(hi, fifth_bits(h, 2 * c + 1));
        }
        s.store(8 * b + 2 * c, k, lo);
        s.store(8 * b + 2 * c + 1, k, hi);
      }
    }
  }
}

// Element 128h + 32q + l: low 4 bits from ql[64h + 32(q%2) + l] (nibble q/2), high 2 bits from
// qh[32h + l] (bits 2q, 2q+1); groups of 16.
void q6_k(const SubPanel& s, int64_t nb) {
  const __m512i low2 = _mm512_set1_epi32(0x03030303);
  for (int64_t b = 0; b < nb; ++b) {
    const size_t block = static_cast<size_t>(b) * sizeof(BlockQ6_K);
    // d is the last 2 bytes of the block: read the word before it, not past the block.
    const __m512 d = half_to_float(s.gather(block + offsetof(BlockQ6_K, d) - 2), true);
    for (int w = 0; w < 4; ++w) {
      const __m512i sc4 = s.gather(block + offsetof(BlockQ6_K, scales) + 4 * w);
      for (int i = 0; i < 4; ++i) {
        // Signed byte i: shift it to the top, then arithmetic shift back.
        const __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(sc4, 24 - 8 * i), 24);
        const __m512 scale = _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc));
        s.store_scale_min(16 * b + 4 * w + i, scale, _mm512_mul_ps(_mm512_set1_ps(32.f), scale));
      }
    }
    for (int h = 0; h < 2; ++h) {
      for (int k = 0; k < 8; ++k) {
        const __m512i ql0 = s.gather(block + offsetof(BlockQ6_K, ql) + 64 * h + 4 * k);
        const __m512i ql1 = s.gather(block + offsetof(BlockQ6_K, ql) + 64 * h + 32 + 4 * k);
        const __m512i qh = s.gather(block + offsetof(BlockQ6_K, qh) + 32 * h + 4 * k);
        for (int q = 0; q < 4; ++q) {
          const __m512i lo = q % 2 == 0 ? ql0 : ql1;
          const __m512i nib = q / 2 == 0 ? low_nibbles(lo) : high_nibbles(lo);
          const __m512i top =
              _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh, 2 * q), low2), 4);
          s.store(16 * b + 8 * h + 2 * q + k / 4, k % 4, _mm512_or_si512(nib, top));
        }
      }
    }
  }
}

}  // namespace

void unpack_panel_avx512(GgmlType type, const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                         Panel& panel) {
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i offsets = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(row_bytes)));
  for (int64_t sub = 0; sub < panel.subpanels; ++sub) {
    const int64_t left = rows - sub * kPanelLanes;
    const __mmask16 live = left >= kPanelLanes ? static_cast<__mmask16>(0xFFFF)
                           : left > 0          ? static_cast<__mmask16>((1u << left) - 1)
                                               : static_cast<__mmask16>(0);
    const SubPanel s{
        static_cast<const std::byte*>(w) + static_cast<size_t>(sub * kPanelLanes) * row_bytes,
        offsets,
        live,
        panel.quants + sub * panel.groups * panel.group * kPanelLanes,
        panel.scale + sub * panel.groups * kPanelLanes,
        panel.min + sub * panel.groups * kPanelLanes,
        panel.group};
    switch (type) {
      case GgmlType::Q8_0:
        q8_0(s, cols / kQK32);
        break;
      case GgmlType::Q4_0:
        q32<BlockQ4_0, false>(s, cols / kQK32);
        break;
      case GgmlType::Q5_0:
        q32<BlockQ5_0, true>(s, cols / kQK32);
        break;
      case GgmlType::Q4_1:
        q32<BlockQ4_1, false, true>(s, cols / kQK32);
        break;
      case GgmlType::Q5_1:
        q32<BlockQ5_1, true, true>(s, cols / kQK32);
        break;
      case GgmlType::Q4_K:
        q45_k<false>(s, cols / kQKK);
        break;
      case GgmlType::Q5_K:
        q45_k<true>(s, cols / kQKK);
        break;
      case GgmlType::Q6_K:
        q6_k(s, cols / kQKK);
        break;
      default:
        break;
    }
  }
}

}  // namespace inference::kernels::detail
