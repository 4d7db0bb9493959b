// kernels/cpu/quantize_q32.cpp — reference quantisers of the 32-element formats (Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0), as llama.cpp's quantize_row_*_ref: one scale (and min) per block from the
// block's extremes, then truncation of x/d + 0.5 (+ the offset), clamped.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/quantize_detail.hpp"

namespace inference::kernels::detail {
namespace {

/// The signed value of largest magnitude (the first one, on ties).
float signed_absmax(const float* x, int n, float* amax_out) {
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  *amax_out = amax;
  return max;
}

void min_max(const float* x, int n, float* min_out, float* max_out) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  *min_out = min;
  *max_out = max;
}

int min_int(int a, int b) {
  return a < b ? a : b;
}

}  // namespace

void quantize_q8_0(const float* x, void* out, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(out);
  for (int64_t b = 0; b < n / kQK32; ++b, x += kQK32) {
    float amax = 0.f;
    for (int j = 0; j < kQK32; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK32; ++j) y[b].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

void quantize_q4_0(const float* x, void* out, int64_t n) {
  BlockQ4_0* y = static_cast<BlockQ4_0*>(out);
  for (int64_t b = 0; b < n / kQK32; ++b, x += kQK32) {
    float amax;
    const float max = signed_absmax(x, kQK32, &amax);
    const float d = max / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int q0 = min_int(15, static_cast<int8_t>(x[j] * id + 8.5f));
      const int q1 = min_int(15, static_cast<int8_t>(x[j + 16] * id + 8.5f));
      y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q4_1(const float* x, void* out, int64_t n) {
  BlockQ4_1* y = static_cast<BlockQ4_1*>(out);
  for (int64_t b = 0; b < n / kQK32; ++b, x += kQK32) {
    float min, max;
    min_max(x, kQK32, &min, &max);
    const float d = (max - min) / 15.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    y[b].m = fp32_to_fp16(min);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int q0 = min_int(15, static_cast<int8_t>((x[j] - min) * id + 0.5f));
      const int q1 = min_int(15, static_cast<int8_t>((x[j + 16] - min) * id + 0.5f));
      y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q5_0(const float* x, void* out, int64_t n) {
  BlockQ5_0* y = static_cast<BlockQ5_0*>(out);
  for (int64_t b = 0; b < n / kQK32; ++b, x += kQK32) {
    float amax;
    const float max = signed_absmax(x, kQK32, &amax);
    const float d = max / -16.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int q0 = min_int(31, static_cast<int8_t>(x[j] * id + 16.5f));
      const int q1 = min_int(31, static_cast<int8_t>(x[j + 16] * id + 16.5f));
      y[b].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= static_cast<uint32_t>((q0 & 0x10) >> 4) << j;
      qh |= static_cast<uint32_t>((q1 & 0x10) >> 4) << (j + 16);
    }
    std::memcpy(y[b].qh, &qh, 4);
  }
}

void quantize_q5_1(const float* x, void* out, int64_t n) {
  BlockQ5_1* y = static_cast<BlockQ5_1*>(out);
  for (int64_t b = 0; b < n / kQK32; ++b, x += kQK32) {
    float min, max;
    min_max(x, kQK32, &min, &max);
    const float d = (max - min) / 31.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    y[b].m = fp32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int q0 = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
      const int q1 = static_cast<uint8_t>((x[j + 16] - min) * id + 0.5f);
      y[b].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= static_cast<uint32_t>((q0 & 0x10) >> 4) << j;
      qh |= static_cast<uint32_t>((q1 & 0x10) >> 4) << (j + 16);
    }
    std::memcpy(y[b].qh, &qh, 4);
  }
}

}  // namespace inference::kernels::detail
