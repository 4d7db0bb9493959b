// kernels/cpu/vec_dot_avx512.cpp — AVX-512 (F, BW, VL, DQ, VNNI) dot products.
//
// Compiled with -mavx512*: reached only through avx512_kernel_table(), which the dispatcher
// uses after checking CPUID. ODR rule for this file: no std:: templates, no inline functions
// from shared headers (a linker may keep this file's copy for every caller); only intrinsics
// and functions with internal linkage.
//
// K-quants: the integer sum of each super-block is reduced exactly and combined with the scales
// by the same float expression as the scalar reference, so results are bit-identical to it.
// 32-element formats and floats accumulate in vector lanes (different float summation order).
// Every function is templated on the number of tokens NT sharing one pass over the weight row;
// the arithmetic per token does not depend on NT, so tiles equal single dots bit for bit.
// GCC 12's AVX-512 headers build "undefined" vectors from uninitialised locals and then warn
// about their own code (GCC bug 105593); the values are never read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/k_quant_simd.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

float h2f(uint16_t h) {
  return _cvtsh_ss(h);
}

__m256i fold512(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
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
  const __m128i s0 = _mm_add_epi32(_mm256_castsi256_si128(g0), _mm256_extracti128_si256(g0, 1));
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), s0);
  if constexpr (N > 4) {
    const __m256i g1 =
        _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    const __m128i s1 = _mm_add_epi32(_mm256_castsi256_si128(g1), _mm256_extracti128_si256(g1, 1));
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp + 4), s1);
  }
  for (int i = 0; i < N; ++i) out[i] = tmp[i];
}

float hsum256_ps(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

float hsum512_ps(__m512 v) {
  __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// ---- float formats -------------------------------------------------------------------------

__m512 load_f32(const void* p, int64_t i, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + i);
}
__m512 load_f16(const void* p, int64_t i, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i));
}
__m512 load_bf16(const void* p, int64_t i, __mmask16 m) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

template <int NT, __m512 (*Load)(const void*, int64_t, __mmask16)>
void dot_float(int64_t n, const void* w, const std::byte* a, size_t stride, float* out) {
  __m512 acc[NT][2];
  for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 w0 = Load(w, i, 0xFFFF), w1 = Load(w, i + 16, 0xFFFF);
    for (int t = 0; t < NT; ++t) {
      acc[t][0] = _mm512_fmadd_ps(w0, Load(a + t * stride, i, 0xFFFF), acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(w1, Load(a + t * stride, i + 16, 0xFFFF), acc[t][1]);
    }
  }
  for (; i < n; i += 16) {
    const int64_t left = n - i;
    const __mmask16 m =
        left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 w0 = Load(w, i, m);
    for (int t = 0; t < NT; ++t) {
      acc[t][0] = _mm512_fmadd_ps(w0, Load(a + t * stride, i, m), acc[t][0]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum512_ps(_mm512_add_ps(acc[t][0], acc[t][1]));
}

// ---- 32-element formats --------------------------------------------------------------------

// A block's 32 quants as bytes: unsigned (with `offset` subtracted through sum(y)) or, for
// Q8_0, signed.
__m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m4), _mm_and_si128(q, m4));
}
__m256i add_fifth_bit(__m256i q, const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);  // element i takes bit i
  return _mm256_mask_add_epi8(q, bits, q, _mm256_set1_epi8(16));
}

enum class Kind { q4_0, q4_1, q5_0, q5_1, q8_0 };

template <Kind K>
__m256i block_quants(const void* w, int64_t b) {
  if constexpr (K == Kind::q4_0) {
    return unpack_nibbles(static_cast<const BlockQ4_0*>(w)[b].qs);
  } else if constexpr (K == Kind::q4_1) {
    return unpack_nibbles(static_cast<const BlockQ4_1*>(w)[b].qs);
  } else if constexpr (K == Kind::q5_0) {
    const BlockQ5_0& x = static_cast<const BlockQ5_0*>(w)[b];
    return add_fifth_bit(unpack_nibbles(x.qs), x.qh);
  } else if constexpr (K == Kind::q5_1) {
    const BlockQ5_1& x = static_cast<const BlockQ5_1*>(w)[b];
    return add_fifth_bit(unpack_nibbles(x.qs), x.qh);
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
uint16_t block_m(const void* w, int64_t b) {
  if constexpr (K == Kind::q4_1) return static_cast<const BlockQ4_1*>(w)[b].m;
  if constexpr (K == Kind::q5_1) return static_cast<const BlockQ5_1*>(w)[b].m;
  return 0;
}

constexpr bool has_min(Kind k) {
  return k == Kind::q4_1 || k == Kind::q5_1;
}
constexpr int quant_offset(Kind k) {
  return k == Kind::q4_0 ? 8 : k == Kind::q5_0 ? 16 : 0;
}

// Activation block layout shared by Q8_0 and Q8_1: d (and s) then 32 quants.
template <Kind K>
const int8_t* act_qs(const std::byte* a, int64_t b) {
  if constexpr (has_min(K)) return reinterpret_cast<const BlockQ8_1*>(a)[b].qs;
  return reinterpret_cast<const BlockQ8_0*>(a)[b].qs;
}
template <Kind K>
uint16_t act_d(const std::byte* a, int64_t b) {
  if constexpr (has_min(K)) return reinterpret_cast<const BlockQ8_1*>(a)[b].d;
  return reinterpret_cast<const BlockQ8_0*>(a)[b].d;
}

// One block per 256-bit register: with 512-bit vectors only two ports execute vector ALU ops,
// and packing two 34-byte blocks into one register costs more shuffles than it saves.
template <int NT, Kind K>
void dot_q32(int64_t n, const void* w, const std::byte* a, size_t stride, float* out) {
  const int64_t nb = n / kQK32;
  __m256 acc[NT];
  float msum[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm256_setzero_ps();
    msum[t] = 0.f;
  }
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(quant_offset(K)));
  for (int64_t b = 0; b < nb; ++b) {
    __m256i xq = block_quants<K>(w, b);
    __mmask32 negative = 0;
    if constexpr (K == Kind::q8_0) {
      // dpbusd multiplies unsigned by signed: use |x| and move x's sign onto y.
      negative = _mm256_movepi8_mask(xq);
      xq = _mm256_abs_epi8(xq);
    }
    const float dx = h2f(block_d<K>(w, b));
    for (int t = 0; t < NT; ++t) {
      const std::byte* at = a + t * stride;
      __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act_qs<K>(at, b)));
      __m256i p;
      if constexpr (K == Kind::q8_0) {
        yq = _mm256_mask_sub_epi8(yq, negative, _mm256_setzero_si256(), yq);
        p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), xq, yq);
      } else if constexpr (quant_offset(K) != 0) {
        p = _mm256_sub_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), xq, yq),
                             _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, yq));
      } else {
        p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), xq, yq);
      }
      acc[t] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dx * h2f(act_d<K>(at, b))), acc[t]);
      if constexpr (has_min(K)) {
        const BlockQ8_1* y = reinterpret_cast<const BlockQ8_1*>(at);
        msum[t] += h2f(block_m<K>(w, b)) * h2f(y[b].s);
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
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const KBlock45 blk = k45_block<kFive>(w, b);
    const uint8_t* packed_scales = blk.scales;
    const uint8_t* qs = blk.qs;
    const uint16_t xd = blk.d, xdmin = blk.dmin;
    __m512i hbits = _mm512_setzero_si512();
    if constexpr (kFive)
      hbits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh)));
    uint32_t utmp[4];
    unpack_k4(packed_scales, utmp);
    const __m256i mins16 = mins_per_bsum(utmp);
    __m512i q[4], scale[4];
    for (int j = 0; j < 4; ++j) {
      q[j] = nibble_pair(qs + 32 * j);
      if constexpr (kFive) {
        // Element 32s + l takes bit s of qh[l] as its fifth bit (s = 2j low half, 2j+1 high).
        const __m512i sel = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_set1_epi8(static_cast<char>(1 << (2 * j)))),
            _mm256_set1_epi8(static_cast<char>(1 << (2 * j + 1))), 1);
        q[j] = _mm512_mask_add_epi8(q[j], _mm512_test_epi8_mask(hbits, sel), q[j],
                                    _mm512_set1_epi8(16));
      }
    }
    // From registers, not memory: a 64-bit load of utmp just written as 32-bit words would
    // miss store forwarding.
    const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(
        _mm_set_epi32(0, 0, static_cast<int>(utmp[1]), static_cast<int>(utmp[0]))));
    for (int j = 0; j < 4; ++j) {
      scale[j] = _mm512_permutexvar_epi16(_mm512_load_si512(kPairIndex[j]), sc16);
    }
    const float xdf = h2f(xd), xdminf = h2f(xdmin);
    // Per token: the quant products (vector 2t) and the mins term (vector 2t+1), reduced
    // together.
    __m256i parts[2 * NT];
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m512i acc = _mm512_setzero_si512();
      for (int j = 0; j < 4; ++j) {
        const __m512i yq = _mm512_loadu_si512(y.qs + 64 * j);
        acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(q[j], yq), scale[j]);
      }
      parts[2 * t] = fold512(acc);
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
    // Chunk c = 2h + k/2 holds elements 64c..64c+63 as unsigned 6-bit values (bias 32 later).
    __m512i q[4], scale[4];
    const __m256i sc16 = unpack_q6_k_avx512(x, q, scale);
    const float xd = h2f(x.d);
    __m256i parts[NT];
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m512i acc = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        const __m512i yq = _mm512_loadu_si512(y.qs + 64 * c);
        acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(q[c], yq), scale[c]);
      }
      // sum((q - 32) * y * s) = sum(q * y * s) - 32 * sum(bsum * s), lane by lane (exact ints)
      const __m256i bias =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), sc16);
      parts[t] = _mm256_sub_epi32(fold512(acc), _mm256_slli_epi32(bias, 5));
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
    {0, INFERENCE_KERNEL_PAIR(dot_float, load_f32)},
    {1, INFERENCE_KERNEL_PAIR(dot_float, load_f16)},
    {30, INFERENCE_KERNEL_PAIR(dot_float, load_bf16)},
    {2, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q4_0)},
    {3, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q4_1)},
    {6, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q5_0)},
    {7, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q5_1)},
    {8, INFERENCE_KERNEL_PAIR(dot_q32, Kind::q8_0)},
    {12, INFERENCE_KERNEL_PAIR(dot_q45_k, false)},
    {13, INFERENCE_KERNEL_PAIR(dot_q45_k, true)},
    {14, INFERENCE_KERNEL_PAIR(dot_q6_k)},
    {10, vec_dot_q2_k_avx2, nullptr},  // AVX2 code: rare formats, not worth a 512-bit variant
    {11, vec_dot_q3_k_avx2, nullptr},
    {4, vec_dot_mlx_affine8_avx512, nullptr},  // kMlxAffine8 (mlx_affine8.hpp)
};

constexpr KernelTable make_table() {
  KernelTable t{};
  t.name = "avx512-vnni";
  t.gemm_panel = gemm_panel_avx512;
  t.gemm_panel_packed_forms = true;
  t.gemm_panel_types = (1u << 2) | (1u << 3) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 12) |
                       (1u << 13) | (1u << 14);  // every type with a panel form
  for (int type : {2, 3, 6, 7, 8, 12, 13, 14}) t.unpack_panel[type] = unpack_panel_avx512;
  t.quantize_q8_0 = quantize_activation_q8_0_avx512;
  t.quantize_q8_1 = quantize_activation_q8_1_avx512;
  t.quantize_q8_k = quantize_activation_q8_k_avx512;
  t.gemv[2] = gemv_q4_0_avx512;
  t.gemv[6] = gemv_q5_0_avx512;
  t.gemv[8] = gemv_q8_0_avx512;
  t.gemv_interleaved[2] = gemv_interleaved_q4_0_avx512;
  t.packed_partial_runs = true;
  t.gemv_interleaved[3] = gemv_interleaved_q4_1_avx512;
  t.gemv_interleaved[6] = gemv_interleaved_q5_0_avx512;
  t.gemv_interleaved[7] = gemv_interleaved_q5_1_avx512;
  t.gemv_interleaved[8] = gemv_interleaved_q8_0_avx512;
  t.gemv_interleaved[12] = gemv_interleaved_q4_k_avx512;
  t.gemv_interleaved[13] = gemv_interleaved_q5_k_avx512;
  t.gemv_k[12] = gemv_q4_k_avx512;
  t.gemv_k[13] = gemv_q5_k_avx512;
  t.gemv_k[14] = gemv_q6_k_avx512;
  t.attend_tokens = attend_tokens_avx512;
  for (const Entry& e : kEntries) {
    t.dot[e.type] = e.dot;
    t.dot_multi[e.type] = e.multi;
  }
  return t;
}

constexpr KernelTable kTable = make_table();

}  // namespace

const KernelTable* avx512_kernel_table() noexcept {
  return &kTable;
}

}  // namespace inference::kernels::detail
