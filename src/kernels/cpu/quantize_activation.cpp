// kernels/cpu/quantize_activation.cpp — see quantize_activation.hpp.
//
// Rounding rules, as in llama.cpp b8999's CPU backend on x86 (the reference engine):
// - Q8_0/Q8_1 use its AVX path: the multiplier is 127/amax (not 1/d with d already rounded), the
//   products are rounded with round-half-even (_mm256_round_ps), d is stored as fp16.
// - Q8_K uses the reference quantiser: iscale = -127/max with max the signed element of largest
//   magnitude (so that element maps to -127), nearest_int() = round-half-even, d = 1/iscale.
#include "kernels/cpu/quantize_activation.hpp"

#include <cmath>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"

namespace inference::kernels {
namespace {

/// Round half to even, as _mm256_round_ps(_MM_ROUND_NEAREST) and ggml's nearest_int() do:
/// adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits (exact for |v| < 2^22;
/// activations here are at most 127 in magnitude). Plain arithmetic, unlike nearbyint(), which
/// is a libm call on baseline x86-64 and would dominate prefill quantisation.
int round_even(float v) noexcept {
  const float shifted = v + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &shifted, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

template <typename Block>
float quantize_q8_block(const float* x, Block& out, int32_t* sum_out) noexcept {
  // A plain comparison, not std::fmax (a libm call on baseline x86-64 that kept this loop
  // scalar); the same result for every input, NaN included (amax never becomes NaN).
  float amax = 0;
  for (int j = 0; j < kQK32; ++j) {
    const float ax = std::fabs(x[j]);
    amax = ax > amax ? ax : amax;
  }
  const float d = amax / 127.f;
  const float id = amax != 0.f ? 127.f / amax : 0.f;
  out.d = fp32_to_fp16(d);
  int32_t sum = 0;
  for (int j = 0; j < kQK32; ++j) {
    const int q = round_even(x[j] * id);
    out.qs[j] = static_cast<int8_t>(q);
    sum += q;
  }
  *sum_out = sum;
  return d;
}

}  // namespace

void quantize_activation_q8_0(const float* x, void* out, int64_t n) noexcept {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(out);
  int32_t sum;
  for (int64_t b = 0; b < n / kQK32; ++b) quantize_q8_block(x + b * kQK32, y[b], &sum);
}

void quantize_activation_q8_1(const float* x, void* out, int64_t n) noexcept {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(out);
  for (int64_t b = 0; b < n / kQK32; ++b) {
    int32_t sum;
    const float d = quantize_q8_block(x + b * kQK32, y[b], &sum);
    y[b].s = fp32_to_fp16(d * static_cast<float>(sum));
  }
}

void quantize_activation_q8_k(const float* x, void* out, int64_t n) noexcept {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(out);
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQKK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQKK; ++j) {
      const int v = round_even(iscale * x[j]);
      y[b].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += y[b].qs[16 * g + j];
      y[b].bsums[g] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.f / iscale;
  }
}

void quantize_activation_f16(const float* x, void* out, int64_t n) noexcept {
  uint16_t* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

void quantize_activation_bf16(const float* x, void* out, int64_t n) noexcept {
  uint16_t* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

}  // namespace inference::kernels
