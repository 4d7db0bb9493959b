// kernels/cpu/vec_dot_avx2.cpp — AVX2 + FMA + F16C dot products (x86-64 CPUs since 2013).
//
// Same structure and rules as vec_dot_avx512.cpp (see there): reached only through
// avx2_kernel_table() after a CPUID check; no std:: templates or shared inline functions here;
// K-quants bit-identical to the scalar reference; per-token arithmetic independent of the tile
// size NT.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/k_quant_simd.hpp"
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/q32_avx2.hpp"
#include "kernels/cpu/weight_prefetch.hpp"

namespace inference::kernels::detail {
namespace {

float h2f(uint16_t h) {
  return _cvtsh_ss(h);
}
float bf2f(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// The sums of N (<= 8) vectors of 8 int32 at once: a tree of hadds shared by all of them costs
// far less than N separate reductions (prefill tiles reduce 2 values per token per super-block).
template <int N>
void hsum_many(const __m256i* v, int32_t* out) {
  __m256i p[8];
  for (int i = 0; i < 8; ++i) p[i] = i < N ? v[i] : _mm256_setzero_si256();
  // Per 128-bit lane: g0 = [sum v0, sum v1, sum v2, sum v3] of that lane's 4 elements.
  const __m256i g0 =
      _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
  alignas(32) int32_t tmp[8];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp),
                  _mm_add_epi32(_mm256_castsi256_si128(g0), _mm256_extracti128_si256(g0, 1)));
  if constexpr (N > 4) {
    const __m256i g1 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp + 4),
                    _mm_add_epi32(_mm256_castsi256_si128(g1), _mm256_extracti128_si256(g1, 1)));
  }
  for (int i = 0; i < N; ++i) out[i] = tmp[i];
}

// ---- float formats -------------------------------------------------------------------------

__m256 load_f32(const void* p, int64_t i) {
  return _mm256_loadu_ps(static_cast<const float*>(p) + i);
}
float scalar_f32(const void* p, int64_t i) {
  return static_cast<const float*>(p)[i];
}
__m256 load_f16(const void* p, int64_t i) {
  return _mm256_cvtph_ps(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i)));
}
float scalar_f16(const void* p, int64_t i) {
  return h2f(static_cast<const uint16_t*>(p)[i]);
}
__m256 load_bf16(const void* p, int64_t i) {
  const __m128i h =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
float scalar_bf16(const void* p, int64_t i) {
  return bf2f(static_cast<const uint16_t*>(p)[i]);
}

template <int NT, __m256 (*Load)(const void*, int64_t), float (*Scalar)(const void*, int64_t)>
void dot_float(int64_t n, const void* w, const std::byte* a, size_t stride, float* out) {
  __m256 acc[NT][2];
  for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = Load(w, i), w1 = Load(w, i + 8);
    for (int t = 0; t < NT; ++t) {
      acc[t][0] = _mm256_fmadd_ps(w0, Load(a + t * stride, i), acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w1, Load(a + t * stride, i + 8), acc[t][1]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    float tail = 0.f;
    for (int64_t k = i; k < n; ++k) tail += Scalar(w, k) * Scalar(a + t * stride, k);
    out[t] = hsum256_ps(_mm256_add_ps(acc[t][0], acc[t][1])) + tail;
  }
}

// ---- 32-element formats --------------------------------------------------------------------

enum class Kind { q4_0, q4_1, q5_0, q5_1, q8_0 };

constexpr bool has_min(Kind k) {
  return k == Kind::q4_1 || k == Kind::q5_1;
}

// The block's quants as bytes: signed for the symmetric formats (offset already removed),
// unsigned for Q4_1/Q5_1.
template <Kind K>
__m256i block_quants(const void* w, int64_t b) {
  if constexpr (K == Kind::q4_0) {
    return _mm256_sub_epi8(unpack_nibbles(static_cast<const BlockQ4_0*>(w)[b].qs),
                           _mm256_set1_epi8(8));
  } else if constexpr (K == Kind::q4_1) {
    return unpack_nibbles(static_cast<const BlockQ4_1*>(w)[b].qs);
  } else if constexpr (K == Kind::q5_0) {
    const BlockQ5_0& x = static_cast<const BlockQ5_0*>(w)[b];
    return _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh)),
                           _mm256_set1_epi8(16));
  } else if constexpr (K == Kind::q5_1) {
    const BlockQ5_1& x = static_cast<const BlockQ5_1*>(w)[b];
    return _mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh));
  } else {
    return _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(static_cast<const BlockQ8_0*>(w)[b].qs));
  }
}

template <Kind K>
uint16_t block_d(const void* w, int64_t b) {
  if constexpr (K == Kind::q4_0) return static_cast<const BlockQ4_0*>(w)[b].d;
  if constexpr (K == Kind::q4_1) return static_cast<const BlockQ4_1*>(w)[b].d;
  if constexpr (K == Kind::q5_0) return static_cast<const BlockQ5_0*>(w)[b].d;
  if constexpr (K == Kind::q5_1) return static_cast<const BlockQ5_1*>(w)[b].d;
  return static_cast<const BlockQ8_0*>(w)[b].d;
}

template <Kind K>
constexpr size_t block_bytes() {
  if constexpr (K == Kind::q4_0) return sizeof(BlockQ4_0);
  if constexpr (K == Kind::q4_1) return sizeof(BlockQ4_1);
  if constexpr (K == Kind::q5_0) return sizeof(BlockQ5_0);
  if constexpr (K == Kind::q5_1) return sizeof(BlockQ5_1);
  return sizeof(BlockQ8_0);
}

template <Kind K>
uint16_t block_m(const void* w, int64_t b) {
  if constexpr (K == Kind::q4_1) return static_cast<const BlockQ4_1*>(w)[b].m;
  if constexpr (K == Kind::q5_1) return static_cast<const BlockQ5_1*>(w)[b].m;
  return 0;
}

template <int NT, Kind K>
void dot_q32(int64_t n, const void* w, const std::byte* a, size_t stride, float* out) {
  const int64_t nb = n / kQK32;
  __m256 acc[NT];
  float msum[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm256_setzero_ps();
    msum[t] = 0.f;
  }
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    // Blocks are under 64 bytes: one prefetch per block, up to three per line. A single token
    // only: prompt tiles re-read each row from cache, where the prefetches cost 2-7% of pp512.
    if constexpr (NT == 1) {
      prefetch_weights_ahead(static_cast<const uint8_t*>(w) + b * block_bytes<K>(), 1);
    }
    const __m256i xq = block_quants<K>(w, b);
    // maddubs multiplies unsigned by signed: for signed quants use |x| and move x's sign to y.
    const __m256i xu = has_min(K) ? xq : _mm256_sign_epi8(xq, xq);
    const float dx = h2f(block_d<K>(w, b));
    for (int t = 0; t < NT; ++t) {
      const std::byte* at = a + t * stride;
      const int8_t* yqs;
      uint16_t yd;
      if constexpr (has_min(K)) {
        yqs = reinterpret_cast<const BlockQ8_1*>(at)[b].qs;
        yd = reinterpret_cast<const BlockQ8_1*>(at)[b].d;
      } else {
        yqs = reinterpret_cast<const BlockQ8_0*>(at)[b].qs;
        yd = reinterpret_cast<const BlockQ8_0*>(at)[b].d;
      }
      __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yqs));
      if constexpr (!has_min(K)) yq = _mm256_sign_epi8(yq, xq);
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(xu, yq), ones);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dx * h2f(yd)), acc[t]);
      if constexpr (has_min(K)) {
        msum[t] += h2f(block_m<K>(w, b)) * h2f(reinterpret_cast<const BlockQ8_1*>(at)[b].s);
      }
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum256_ps(acc[t]) + msum[t];
}

// ---- K-quants ------------------------------------------------------------------------------

template <int NT, bool kFive>
void dot_q45_k(int64_t n, const void* w, const std::byte* a, size_t stride, float* out) {
  float sum[NT];
  for (int t = 0; t < NT; ++t) sum[t] = 0.f;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const KBlock45 blk = k45_block<kFive>(w, b);
    const uint8_t* packed_scales = blk.scales;
    const uint8_t* qs = blk.qs;
    const uint16_t xd = blk.d, xdmin = blk.dmin;
    __m256i hbits = _mm256_setzero_si256();
    if constexpr (kFive) hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh));
    uint32_t utmp[4];
    unpack_k4(packed_scales, utmp);
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    const __m256i mins16 = mins_per_bsum(utmp);
    __m256i q[8], scale[8];
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * j));
      q[2 * j] = _mm256_and_si256(v, m4);
      q[2 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    for (int s = 0; s < 8; ++s) {
      if constexpr (kFive) {
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << s));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hbits, bit), bit);
        q[s] = _mm256_or_si256(q[s], _mm256_and_si256(set, _mm256_set1_epi8(16)));
      }
      scale[s] = _mm256_set1_epi16(static_cast<short>(sc[s]));
    }
    const float xdf = h2f(xd), xdminf = h2f(xdmin);
    // Per token: the quant products (vector 2t) and the mins term (2t+1), reduced together.
    __m256i parts[2 * NT];
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m256i acc = _mm256_setzero_si256();
      for (int s = 0; s < 8; ++s) {
        const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * s));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q[s], yq), scale[s]));
      }
      parts[2 * t] = acc;
      parts[2 * t + 1] =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), mins16);
    }
    int32_t sums[2 * NT];
    hsum_many<2 * NT>(parts, sums);
    for (int t = 0; t < NT; ++t) {
      const float yd = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b].d;
      const float d = xdf * yd;
      const float dmin = xdminf * yd;
      sum[t] += d * static_cast<float>(sums[2 * t]) - dmin * static_cast<float>(sums[2 * t + 1]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = sum[t];
}

template <int NT>
void dot_q6_k(int64_t n, const void* w, const std::byte* a, size_t stride, float* out) {
  float sum[NT];
  for (int t = 0; t < NT; ++t) sum[t] = 0.f;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const BlockQ6_K& x = static_cast<const BlockQ6_K*>(w)[b];
    // Chunk c = 4h + k: elements 32c..32c+31 as unsigned 6-bit values (bias 32 applied later).
    __m256i q[8], scale[8];
    const __m256i sc16 = unpack_q6_k_avx2(x, q, scale);
    const float xd = h2f(x.d);
    __m256i parts[NT];
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m256i acc = _mm256_setzero_si256();
      for (int c = 0; c < 8; ++c) {
        const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * c));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q[c], yq), scale[c]));
      }
      // sum((q - 32) * y * s) = sum(q * y * s) - 32 * sum(bsum * s), lane by lane (exact ints)
      const __m256i bias =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), sc16);
      parts[t] = _mm256_sub_epi32(acc, _mm256_slli_epi32(bias, 5));
    }
    int32_t isum[NT];
    hsum_many<NT>(parts, isum);
    for (int t = 0; t < NT; ++t) {
      const float yd = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b].d;
      sum[t] += (xd * yd) * static_cast<float>(isum[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = sum[t];
}

// Q2_K and Q3_K: one super-block at a time, integer sums exact, same float combination as the
// scalar reference (bit-identical). Element 128h + 32k + l is bits 2k..2k+1 of qs[32h + l].
float dot_q23_k_impl(int64_t n, const void* w, const void* a, bool three) {
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  float sum = 0.f;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const uint8_t* qs;
    __m256i sc16;  // 16 scales as int16
    if (three) {
      const BlockQ3_K& x = static_cast<const BlockQ3_K*>(w)[b];
      qs = x.qs;
      int16_t sc[16];
      for (int g = 0; g < 16; ++g) {
        const int low = g < 8 ? (x.scales[g] & 0xF) : (x.scales[g - 8] >> 4);
        const int high = (x.scales[8 + (g % 4)] >> (2 * (g / 4))) & 3;
        sc[g] = static_cast<int16_t>((low | (high << 4)) - 32);
      }
      sc16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sc));
    } else {
      qs = static_cast<const BlockQ2_K*>(w)[b].qs;
      sc16 = _mm256_and_si256(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(
                                  static_cast<const BlockQ2_K*>(w)[b].scales))),
                              _mm256_set1_epi16(0xF));
    }
    const __m256i hm = three ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                                   static_cast<const BlockQ3_K*>(w)[b].hmask))
                             : _mm256_setzero_si256();
    alignas(32) int16_t scv[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(scv), sc16);
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * h));
      for (int k = 0; k < 4; ++k) {
        __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), m3);
        if (three) {
          // Unsigned 0..7 here (low | high bit << 2); the -4 bias is applied through bsums.
          const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << (4 * h + k)));
          const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit);
          v = _mm256_or_si256(v, _mm256_and_si256(set, _mm256_set1_epi8(4)));
        }
        const int g = 8 * h + 2 * k;  // the two 16-element scale groups of these 32 elements
        const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(scv[g + 1]), _mm_set1_epi16(scv[g]));
        const __m256i yq =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 128 * h + 32 * k));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(v, yq), scale));
      }
    }
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums));
    if (three) {
      // sum((q - 4) * y * s) = sum(q * y * s) - 4 * sum(bsum * s)
      const __m256i bias = _mm256_madd_epi16(bsums, sc16);
      __m256i parts[1] = {_mm256_sub_epi32(acc, _mm256_slli_epi32(bias, 2))};
      int32_t isum[1];
      hsum_many<1>(parts, isum);
      sum += (h2f(static_cast<const BlockQ3_K*>(w)[b].d) * y[b].d) * static_cast<float>(isum[0]);
    } else {
      const BlockQ2_K& x = static_cast<const BlockQ2_K*>(w)[b];
      const __m256i mins16 = _mm256_cvtepu8_epi16(
          _mm_srli_epi16(_mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)),
                                       _mm_set1_epi8(static_cast<char>(0xF0))),
                         4));
      __m256i parts[2] = {acc, _mm256_madd_epi16(bsums, mins16)};
      int32_t sums[2];
      hsum_many<2>(parts, sums);
      const float d = h2f(x.d) * y[b].d;
      const float dmin = h2f(x.dmin) * y[b].d;
      sum += d * static_cast<float>(sums[0]) - dmin * static_cast<float>(sums[1]);
    }
  }
  return sum;
}

}  // namespace

float vec_dot_q2_k_avx2(int64_t n, const void* w, const void* a) {
  return dot_q23_k_impl(n, w, a, false);
}
float vec_dot_q3_k_avx2(int64_t n, const void* w, const void* a) {
  return dot_q23_k_impl(n, w, a, true);
}

namespace {

// ---- table ---------------------------------------------------------------------------------

template <void (*F1)(int64_t, const void*, const std::byte*, size_t, float*)>
float single(int64_t n, const void* w, const void* a) {
  float out;
  F1(n, w, static_cast<const std::byte*>(a), 0, &out);
  return out;
}

template <void (*F1)(int64_t, const void*, const std::byte*, size_t, float*),
          void (*F2)(int64_t, const void*, const std::byte*, size_t, float*),
          void (*F3)(int64_t, const void*, const std::byte*, size_t, float*),
          void (*F4)(int64_t, const void*, const std::byte*, size_t, float*)>
void multi(int64_t n, const void* w, const void* a, size_t stride, int nt, float* out) {
  const std::byte* ab = static_cast<const std::byte*>(a);
  switch (nt) {
    case 1:
      F1(n, w, ab, stride, out);
      break;
    case 2:
      F2(n, w, ab, stride, out);
      break;
    case 3:
      F3(n, w, ab, stride, out);
      break;
    default:
      F4(n, w, ab, stride, out);
      break;
  }
}

#define INFERENCE_KERNEL_PAIR(NAME, ...)                                            \
  single<NAME<1 __VA_OPT__(, ) __VA_ARGS__>>,                                       \
      multi<NAME<1 __VA_OPT__(, ) __VA_ARGS__>, NAME<2 __VA_OPT__(, ) __VA_ARGS__>, \
            NAME<3 __VA_OPT__(, ) __VA_ARGS__>, NAME<4 __VA_OPT__(, ) __VA_ARGS__>>

struct Entry {
  int type;
  VecDotFn dot;
  VecDotMultiFn multi;
};

constexpr Entry kEntries[] = {
    {0, INFERENCE_KERNEL_PAIR(dot_float, load_f32, scalar_f32)},
    {1, INFERENCE_KERNEL_PAIR(dot_float, load_f16, scalar_f16)},
    {30, INFERENCE_KERNEL_PAIR(dot_float, load_bf16, scalar_bf16)},
    {2, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q4_0)},
    {3, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q4_1)},
    {6, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q5_0)},
    {7, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q5_1)},
    {8, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q8_0)},
    {12, INFERENCE_KERNEL_PAIR(dot_q45_k, false)},
    {13, INFERENCE_KERNEL_PAIR(dot_q45_k, true)},
    {14, INFERENCE_KERNEL_PAIR(dot_q6_k)},
    {10, vec_dot_q2_k_avx2, nullptr},
    {11, vec_dot_q3_k_avx2, nullptr},
    {4, vec_dot_mlx_affine8_avx2, nullptr},  // kMlxAffine8 (mlx_affine8.hpp)
};

constexpr KernelTable make_table() {
  KernelTable t{};
  t.name = "avx2";
  t.gemm_panel = gemm_panel_avx2;
  t.gemv[2] = gemv_q4_0_avx2;
  t.gemv[6] = gemv_q5_0_avx2;
  t.gemv_interleaved[2] = gemv_interleaved_q4_0_avx2;
  t.gemv_interleaved[3] = gemv_interleaved_q4_1_avx2;
  t.gemv_interleaved[6] = gemv_interleaved_q5_0_avx2;
  t.gemv_interleaved[7] = gemv_interleaved_q5_1_avx2;
  t.gemv_interleaved[12] = gemv_interleaved_q4_k_avx2;
  t.gemv_interleaved[13] = gemv_interleaved_q5_k_avx2;
  t.gemv_k[12] = gemv_q4_k_avx2;
  t.gemv_k[13] = gemv_q5_k_avx2;
  t.gemv_k[14] = gemv_q6_k_avx2;
  // Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K: panel quants below 64 (not Q8_0, see gemm_avx2.cpp).
  t.gemm_panel_types =
      (1u << 2) | (1u << 3) | (1u << 6) | (1u << 7) | (1u << 12) | (1u << 13) | (1u << 14);
  for (const Entry& e : kEntries) {
    t.dot[e.type] = e.dot;
    t.dot_multi[e.type] = e.multi;
  }
  return t;
}

constexpr KernelTable kTable = make_table();

}  // namespace

const KernelTable* avx2_kernel_table() noexcept {
  return &kTable;
}

}  // namespace inference::kernels::detail
