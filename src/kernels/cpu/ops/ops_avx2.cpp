// kernels/cpu/ops/ops_avx2.cpp — AVX2 + FMA + F16C variants of the elementwise ops
// (ops_table.hpp), bit-identical to the scalar reference.
//
// Compiled with -mavx2 -mfma -mf16c: reached only through avx2_ops_table(), after the CPUID
// check of simd_dispatch.cpp. ODR rule as in vec_dot_avx2.cpp: no std:: templates and no
// inline functions from shared headers (fast_exp.hpp's exp_approx and ops_table.hpp's
// reduce_lanes are mirrored below, never called), only intrinsics and internal linkage.
// Same operations in the same order as the scalar code: no fused multiply-adds, sums in the
// 8 double lanes, tails through masked loads whose dead lanes add exactly 0.
#include <immintrin.h>

#include <cmath>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/ops/fast_exp.hpp"
#include "kernels/cpu/ops/ops_table.hpp"

namespace inference::kernels::detail {
namespace {

// Lanes [0, left) set (left < 8).
__m256i tail_mask(int64_t left) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// exp_approx (fast_exp.hpp) on 8 lanes, operation for operation.
__m256 exp8(__m256 x) {
  const __m256 magic = _mm256_set1_ps(kExpRoundMagic);
  x = _mm256_max_ps(_mm256_set1_ps(kExpLow), x);
  x = _mm256_min_ps(_mm256_set1_ps(kExpHigh), x);
  const __m256 j = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(kExpLog2e)), magic);
  const __m256 n = _mm256_sub_ps(j, magic);
  const __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(j), _mm256_castps_si256(magic));
  __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(kExpLn2Hi)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(kExpLn2Lo)));
  __m256 p = _mm256_set1_ps(kExpC7);
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(kExpC6));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(kExpC5));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(kExpC4));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(kExpC3));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(kExpC2));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256i h = _mm256_srai_epi32(ni, 1);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
  const __m256 s2 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

// The 8 double lanes of ops_table.hpp: lanes 0-3 in lo, 4-7 in hi.
struct Lanes {
  __m256d lo = _mm256_setzero_pd();
  __m256d hi = _mm256_setzero_pd();
  void add(__m256 v) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  double reduce() const {  // reduce_lanes (ops_table.hpp)
    double a[8];
    _mm256_storeu_pd(a, lo);
    _mm256_storeu_pd(a + 4, hi);
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
  }
};

float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

void rms_norm_row_avx2(const float* x, const float* weight, float* y, int64_t n,
                       float eps) noexcept {
  Lanes lanes;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    lanes.add(_mm256_mul_ps(v, v));
  }
  if (i < n) {
    const __m256 v = _mm256_maskload_ps(x + i, tail_mask(n - i));
    lanes.add(_mm256_mul_ps(v, v));
  }
  const float mean = static_cast<float>(lanes.reduce() / static_cast<double>(n));
  const float scale = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(mean + eps)));
  const __m256 vs = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
    if (weight != nullptr) v = _mm256_mul_ps(v, _mm256_loadu_ps(weight + i));
    _mm256_storeu_ps(y + i, v);
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    __m256 v = _mm256_mul_ps(_mm256_maskload_ps(x + i, m), vs);
    if (weight != nullptr) v = _mm256_mul_ps(v, _mm256_maskload_ps(weight + i, m));
    _mm256_maskstore_ps(y + i, m, v);
  }
}

// Normal mode: element pairs (2i, 2i+1) sit next to their (cos, sin) in cos_sin, so
// x0 c - x1 s (even lanes) and x1 c + x0 s (odd lanes) come from one addsub.
void rope_normal(const float* cos_sin, float* v, int32_t n_dims) {
  int32_t j = 0;
  for (; j + 8 <= n_dims; j += 8) {
    const __m256 cs = _mm256_loadu_ps(cos_sin + j);
    const __m256 x = _mm256_loadu_ps(v + j);
    const __m256 a = _mm256_mul_ps(x, _mm256_moveldup_ps(cs));
    const __m256 b = _mm256_mul_ps(_mm256_permute_ps(x, 0xB1), _mm256_movehdup_ps(cs));
    _mm256_storeu_ps(v + j, _mm256_addsub_ps(a, b));
  }
  if (j < n_dims) {
    const __m256i m = tail_mask(n_dims - j);
    const __m256 cs = _mm256_maskload_ps(cos_sin + j, m);
    const __m256 x = _mm256_maskload_ps(v + j, m);
    const __m256 a = _mm256_mul_ps(x, _mm256_moveldup_ps(cs));
    const __m256 b = _mm256_mul_ps(_mm256_permute_ps(x, 0xB1), _mm256_movehdup_ps(cs));
    _mm256_maskstore_ps(v + j, m, _mm256_addsub_ps(a, b));
  }
}

// NeoX mode: x0 = v[i], x1 = v[i + half] with cos/sin de-interleaved once per call.
void rope_neox(const float* c, const float* s, float* v, int32_t half) {
  int32_t i = 0;
  for (; i < half; i += 8) {
    const __m256i m = tail_mask(half - i < 8 ? half - i : 8);
    const bool full = half - i >= 8;
    const __m256 vc = full ? _mm256_loadu_ps(c + i) : _mm256_maskload_ps(c + i, m);
    const __m256 vs = full ? _mm256_loadu_ps(s + i) : _mm256_maskload_ps(s + i, m);
    const __m256 x0 = full ? _mm256_loadu_ps(v + i) : _mm256_maskload_ps(v + i, m);
    const __m256 x1 = full ? _mm256_loadu_ps(v + half + i) : _mm256_maskload_ps(v + half + i, m);
    const __m256 y0 = _mm256_sub_ps(_mm256_mul_ps(x0, vc), _mm256_mul_ps(x1, vs));
    const __m256 y1 = _mm256_add_ps(_mm256_mul_ps(x0, vs), _mm256_mul_ps(x1, vc));
    if (full) {
      _mm256_storeu_ps(v + i, y0);
      _mm256_storeu_ps(v + half + i, y1);
    } else {
      _mm256_maskstore_ps(v + i, m, y0);
      _mm256_maskstore_ps(v + half + i, m, y1);
    }
  }
}

constexpr int32_t kMaxNeoxHalf = 512;

void rope_apply_avx2(const RopeConfig& config, const float* cos_sin, float* x, int32_t n_heads,
                     int32_t head_dim) noexcept {
  const int32_t half = config.n_dims / 2;
  if (config.neox && half > kMaxNeoxHalf) {
    rope_apply_scalar(config, cos_sin, x, n_heads, head_dim);
    return;
  }
  alignas(32) float c[kMaxNeoxHalf], s[kMaxNeoxHalf];
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

double softmax_row_avx2(float* x, int64_t n) noexcept {
  const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
  __m256 vmax = neg_inf;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(_mm256_loadu_ps(x + i), vmax);
  const __m256i tail = tail_mask(n - i);
  if (i < n) {
    const __m256 v =
        _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(x + i, tail), _mm256_castsi256_ps(tail));
    vmax = _mm256_max_ps(v, vmax);
  }
  const float max = hmax8(vmax);
  if (max == -__builtin_inff()) {
    for (i = 0; i < n; ++i) x[i] = 0.0f;
    return max;
  }
  const __m256 m = _mm256_set1_ps(max);
  Lanes lanes;
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    lanes.add(e);
    _mm256_storeu_ps(x + i, e);
  }
  if (i < n) {
    const __m256 v =
        _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(x + i, tail), _mm256_castsi256_ps(tail));
    const __m256 e = exp8(_mm256_sub_ps(v, m));  // dead lanes: exp(-inf) = 0
    lanes.add(e);
    _mm256_maskstore_ps(x + i, tail, e);
  }
  const double sum = lanes.reduce();
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  if (i < n) _mm256_maskstore_ps(x + i, tail, _mm256_mul_ps(_mm256_maskload_ps(x + i, tail), inv));
  return static_cast<double>(max) + std::log(sum);
}

__m256 swiglu8(__m256 g, __m256 u) {
  const __m256 e = exp8(_mm256_xor_ps(g, _mm256_set1_ps(-0.0f)));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

void swiglu_avx2(const float* gate, const float* up, float* out, int64_t n) noexcept {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, swiglu8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(out + i, m,
                        swiglu8(_mm256_maskload_ps(gate + i, m), _mm256_maskload_ps(up + i, m)));
  }
}

__m256 geglu8(const float* table, __m256 x, __m256 u) {
  const __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 g = _mm256_i32gather_ps(table, _mm256_cvtepu16_epi32(h), 4);
  g = _mm256_blendv_ps(g, x, _mm256_cmp_ps(x, _mm256_set1_ps(10.0f), _CMP_GE_OQ));
  g = _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-10.0f), _CMP_LE_OQ), g);
  return _mm256_mul_ps(g, u);
}

void geglu_avx2(const float* gate, const float* up, float* out, int64_t n) noexcept {
  const float* table = gelu_f16_values();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, geglu8(table, _mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(
        out + i, m, geglu8(table, _mm256_maskload_ps(gate + i, m), _mm256_maskload_ps(up + i, m)));
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

__m256 load8(const std::byte* row, bool f16, int32_t d) {
  if (f16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(
        reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + d)));
  }
  return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + d);
}

// NV vectors of 8 output dimensions from d, accumulated in registers over all cells.
template <int NV>
void values_block(const float* weights, const KvHeadView& kv, int32_t d, float* out) {
  __m256 acc[NV];
  for (int k = 0; k < NV; ++k) acc[k] = _mm256_setzero_ps();
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    if (weights[i] == 0.0f) continue;
    const __m256 p = _mm256_set1_ps(round_weight(weights[i], kv.f16));
    const std::byte* row = value_row(kv, i);
    for (int k = 0; k < NV; ++k) {
      acc[k] = _mm256_add_ps(acc[k], _mm256_mul_ps(p, load8(row, kv.f16, d + 8 * k)));
    }
  }
  for (int k = 0; k < NV; ++k) _mm256_storeu_ps(out + d + 8 * k, acc[k]);
}

void attention_values_avx2(const float* weights, const KvHeadView& kv, int32_t head_dim,
                           float* out) noexcept {
  const int32_t full = head_dim / 8 * 8;
  int32_t d = 0;
  for (; d + 32 <= full; d += 32) values_block<4>(weights, kv, d, out);
  for (; d < full; d += 8) values_block<1>(weights, kv, d, out);
  for (; d < head_dim; ++d) {  // head_dim % 8 dimensions, one at a time
    float acc = 0.0f;
    for (int32_t i = 0; i < kv.n_cells; ++i) {
      if (weights[i] == 0.0f) continue;
      const std::byte* row = value_row(kv, i);
      const float v = kv.f16 ? _cvtsh_ss(reinterpret_cast<const uint16_t*>(row)[d])
                             : reinterpret_cast<const float*>(row)[d];
      acc += round_weight(weights[i], kv.f16) * v;
    }
    out[d] = acc;
  }
}

void round_to_f16_avx2(const float* x, uint16_t* out, int64_t n) noexcept {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) out[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

constexpr OpsTable kTable{"avx2",      rms_norm_row_avx2, rope_apply_avx2,       softmax_row_avx2,
                          swiglu_avx2, geglu_avx2,        attention_values_avx2, round_to_f16_avx2};

}  // namespace

const OpsTable* avx2_ops_table() noexcept {
  return &kTable;
}

}  // namespace inference::kernels::detail
