// kernels/cpu/ops/ops_avx512.cpp — AVX-512 (F, BW, VL) variants of the elementwise ops
// (ops_table.hpp), bit-identical to the scalar reference.
//
// Compiled with -mavx512*: reached only through avx512_ops_table(), after the CPUID check of
// simd_dispatch.cpp. ODR rule as in vec_dot_avx512.cpp: no std:: templates and no inline
// functions from shared headers (fast_exp.hpp's exp_approx and ops_table.hpp's reduce_lanes
// are mirrored below, never called), only intrinsics and internal linkage. Same operations in
// the same order as the scalar code: no fused multiply-adds; a 16-wide block adds its low 8
// then its high 8 elements to the 8 double lanes, which is the scalar order lane by lane.
// GCC 12's AVX-512 headers build "undefined" vectors from uninitialised locals and then warn
// about their own code (GCC bug 105593); the values are never read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/ops/fast_exp.hpp"
#include "kernels/cpu/ops/ops_table.hpp"

namespace inference::kernels::detail {
namespace {

__mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

// exp_approx (fast_exp.hpp) on 16 lanes, operation for operation.
__m512 exp16(__m512 x) {
  const __m512 magic = _mm512_set1_ps(kExpRoundMagic);
  x = _mm512_max_ps(_mm512_set1_ps(kExpLow), x);
  x = _mm512_min_ps(_mm512_set1_ps(kExpHigh), x);
  const __m512 j = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(kExpLog2e)), magic);
  const __m512 n = _mm512_sub_ps(j, magic);
  const __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(j), _mm512_castps_si512(magic));
  __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(kExpLn2Hi)));
  r = _mm512_sub_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(kExpLn2Lo)));
  __m512 p = _mm512_set1_ps(kExpC7);
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(kExpC6));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(kExpC5));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(kExpC4));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(kExpC3));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(kExpC2));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f));
  const __m512i bias = _mm512_set1_epi32(127);
  const __m512i h = _mm512_srai_epi32(ni, 1);
  const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(h, bias), 23));
  const __m512 s2 =
      _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(ni, h), bias), 23));
  return _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
}

// The 8 double lanes of ops_table.hpp in one register.
struct Lanes {
  __m512d acc = _mm512_setzero_pd();
  void add(__m512 v) {
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    acc = _mm512_add_pd(
        acc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  double reduce() const {  // reduce_lanes (ops_table.hpp)
    double a[8];
    _mm512_storeu_pd(a, acc);
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
  }
};

void rms_norm_row_avx512(const float* x, const float* weight, float* y, int64_t n,
                         float eps) noexcept {
  Lanes lanes;
  for (int64_t i = 0; i < n; i += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
    lanes.add(_mm512_mul_ps(v, v));  // dead lanes add 0
  }
  const float mean = static_cast<float>(lanes.reduce() / static_cast<double>(n));
  const float scale = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(mean + eps)));
  const __m512 vs = _mm512_set1_ps(scale);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs);
    if (weight != nullptr) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, weight + i));
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}

// Normal mode: even lanes x0 c - x1 s, odd lanes x1 c + x0 s (see ops_avx2.cpp).
void rope_normal(const float* cos_sin, float* v, int32_t n_dims) {
  for (int32_t j = 0; j < n_dims; j += 16) {
    const __mmask16 m = tail_mask(n_dims - j);
    const __m512 cs = _mm512_maskz_loadu_ps(m, cos_sin + j);
    const __m512 x = _mm512_maskz_loadu_ps(m, v + j);
    const __m512 a = _mm512_mul_ps(x, _mm512_moveldup_ps(cs));
    const __m512 b = _mm512_mul_ps(_mm512_permute_ps(x, 0xB1), _mm512_movehdup_ps(cs));
    const __m512 y = _mm512_mask_sub_ps(_mm512_add_ps(a, b), 0x5555, a, b);
    _mm512_mask_storeu_ps(v + j, m, y);
  }
}

void rope_neox(const float* c, const float* s, float* v, int32_t half) {
  for (int32_t i = 0; i < half; i += 16) {
    const __mmask16 m = tail_mask(half - i);
    const __m512 vc = _mm512_maskz_loadu_ps(m, c + i);
    const __m512 vs = _mm512_maskz_loadu_ps(m, s + i);
    const __m512 x0 = _mm512_maskz_loadu_ps(m, v + i);
    const __m512 x1 = _mm512_maskz_loadu_ps(m, v + half + i);
    _mm512_mask_storeu_ps(v + i, m, _mm512_sub_ps(_mm512_mul_ps(x0, vc), _mm512_mul_ps(x1, vs)));
    _mm512_mask_storeu_ps(v + half + i, m,
                          _mm512_add_ps(_mm512_mul_ps(x0, vs), _mm512_mul_ps(x1, vc)));
  }
}

constexpr int32_t kMaxNeoxHalf = 512;

void rope_apply_avx512(const RopeConfig& config, const float* cos_sin, float* x, int32_t n_heads,
                       int32_t head_dim) noexcept {
  const int32_t half = config.n_dims / 2;
  if (config.neox && half > kMaxNeoxHalf) {
    rope_apply_scalar(config, cos_sin, x, n_heads, head_dim);
    return;
  }
  alignas(64) float c[kMaxNeoxHalf], s[kMaxNeoxHalf];
  if (config.neox) {
    for (int32_t i = 0; i < half; ++i) c[i] = cos_sin[2 * i], s[i] = cos_sin[2 * i + 1];
  }
  for (int32_t h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    if (config.neox) {
      rope_neox(c, s, v, half);
    } else {
      rope_normal(cos_sin, v, 2 * half);
    }
  }
}

double softmax_row_avx512(float* x, int64_t n) noexcept {
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 vmax = neg_inf;
  for (int64_t i = 0; i < n; i += 16) {
    vmax = _mm512_max_ps(_mm512_mask_loadu_ps(neg_inf, tail_mask(n - i), x + i), vmax);
  }
  const float max = _mm512_reduce_max_ps(vmax);
  if (max == -__builtin_inff()) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return max;
  }
  const __m512 m = _mm512_set1_ps(max);
  Lanes lanes;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 t = tail_mask(n - i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(neg_inf, t, x + i), m));
    lanes.add(e);  // dead lanes: exp(-inf) = 0
    _mm512_mask_storeu_ps(x + i, t, e);
  }
  const double sum = lanes.reduce();
  const __m512 inv = _mm512_set1_ps(static_cast<float>(1.0 / sum));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 t = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, t, _mm512_mul_ps(_mm512_maskz_loadu_ps(t, x + i), inv));
  }
  return static_cast<double>(max) + std::log(sum);
}

void swiglu_avx512(const float* gate, const float* up, float* out, int64_t n) noexcept {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 t = tail_mask(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(t, gate + i);
    const __m512 e = exp16(_mm512_xor_ps(g, sign));
    const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, e));
    _mm512_mask_storeu_ps(out + i, t, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(t, up + i)));
  }
}

void geglu_avx512(const float* gate, const float* up, float* out, int64_t n) noexcept {
  const float* table = gelu_f16_values();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 t = tail_mask(n - i);
    const __m512 x = _mm512_maskz_loadu_ps(t, gate + i);
    const __m256i h = _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 g = _mm512_i32gather_ps(_mm512_cvtepu16_epi32(h), table, 4);
    g = _mm512_mask_mov_ps(g, _mm512_cmp_ps_mask(x, _mm512_set1_ps(10.0f), _CMP_GE_OQ), x);
    g = _mm512_maskz_mov_ps(
        static_cast<__mmask16>(~_mm512_cmp_ps_mask(x, _mm512_set1_ps(-10.0f), _CMP_LE_OQ)), g);
    _mm512_mask_storeu_ps(out + i, t, _mm512_mul_ps(g, _mm512_maskz_loadu_ps(t, up + i)));
  }
}

float round_weight(float w, bool f16) {
  return f16 ? _cvtsh_ss(_cvtss_sh(w, _MM_FROUND_TO_NEAREST_INT)) : w;
}

const std::byte* value_row(const KvHeadView& kv, int32_t i) {
  const int32_t c =
      kv.first_cell + i >= kv.n_cells ? kv.first_cell + i - kv.n_cells : kv.first_cell + i;
  return static_cast<const std::byte*>(kv.v) +
         static_cast<size_t>(c * kv.cell_stride) * (kv.f16 ? 2 : 4);
}

__m512 load16(const std::byte* row, bool f16, int32_t d, __mmask16 m) {
  if (f16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + d));
  }
  return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + d);
}

// NV vectors of 16 output dimensions from d (the last one masked by `last`), accumulated in
// registers over all cells.
template <int NV>
void values_block(const float* weights, const KvHeadView& kv, int32_t d, __mmask16 last,
                  float* out) {
  __m512 acc[NV];
  for (int k = 0; k < NV; ++k) acc[k] = _mm512_setzero_ps();
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    if (weights[i] == 0.0f) continue;
    const __m512 p = _mm512_set1_ps(round_weight(weights[i], kv.f16));
    const std::byte* row = value_row(kv, i);
    for (int k = 0; k < NV; ++k) {
      const __mmask16 m = k == NV - 1 ? last : static_cast<__mmask16>(0xFFFF);
      acc[k] = _mm512_add_ps(acc[k], _mm512_mul_ps(p, load16(row, kv.f16, d + 16 * k, m)));
    }
  }
  for (int k = 0; k < NV; ++k) {
    _mm512_mask_storeu_ps(out + d + 16 * k, k == NV - 1 ? last : static_cast<__mmask16>(0xFFFF),
                          acc[k]);
  }
}

void attention_values_avx512(const float* weights, const KvHeadView& kv, int32_t head_dim,
                             float* out) noexcept {
  int32_t d = 0;
  for (; d + 64 <= head_dim; d += 64) values_block<4>(weights, kv, d, 0xFFFF, out);
  for (; d < head_dim; d += 16) values_block<1>(weights, kv, d, tail_mask(head_dim - d), out);
}

void round_to_f16_avx512(const float* x, uint16_t* out, int64_t n) noexcept {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 t = tail_mask(n - i);
    _mm256_mask_storeu_epi16(
        out + i, t, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(t, x + i), _MM_FROUND_TO_NEAREST_INT));
  }
}

constexpr OpsTable kTable{
    "avx512",      rms_norm_row_avx512, rope_apply_avx512,       softmax_row_avx512,
    swiglu_avx512, geglu_avx512,        attention_values_avx512, round_to_f16_avx512};

}  // namespace

const OpsTable* avx512_ops_table() noexcept {
  return &kTable;
}

}  // namespace inference::kernels::detail
