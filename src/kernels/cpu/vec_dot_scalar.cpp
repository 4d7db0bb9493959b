// kernels/cpu/vec_dot_scalar.cpp — scalar reference dot products, one per weight format.
//
// Quantised formats: the integer products of one block (or super-block) are summed exactly in
// int32, then combined with the block scales in float, blocks in order. That is the arithmetic
// of ggml's reference kernels up to float summation order; the SIMD variants keep the same
// per-block formula so that they agree with these to the last bit where their reduction order
// allows. Float formats accumulate in double: the most accurate reference to test SIMD against.
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

/// The 8 six-bit scales and 8 six-bit mins of a Q4_K/Q5_K super-block.
void unpack_k4_scales(const uint8_t* q, uint8_t* scales, uint8_t* mins) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      scales[j] = q[j] & 63;
      mins[j] = q[j + 4] & 63;
    } else {
      scales[j] = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
      mins[j] = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
  }
}

/// The 16 signed scales of a Q3_K super-block (stored as 6-bit values biased by 32).
void unpack_q3_k_scales(const uint8_t* packed, int8_t* scales) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
    const int high = (packed[8 + (j % 4)] >> (2 * (j / 4))) & 3;
    scales[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

/// Sum of the mins term of a K-quant block: sum over 16-element groups of bsums * min.
int32_t bsum_dot_mins(const BlockQ8_K& y, const uint8_t* mins) {
  int32_t s = 0;
  for (int j = 0; j < 16; ++j) s += y.bsums[j] * mins[j / 2];
  return s;
}

}  // namespace

float vec_dot_f32(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * y[i];
  return static_cast<float>(sum);
}

float vec_dot_f16(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(fp16_to_fp32(x[i])) * fp16_to_fp32(y[i]);
  }
  return static_cast<float>(sum);
}

float vec_dot_bf16(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(bf16_to_fp32(x[i])) * bf16_to_fp32(y[i]);
  }
  return static_cast<float>(sum);
}

float vec_dot_q4_0(int64_t n, const void* w, const void* a) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK32; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      isum += ((x[b].qs[j] & 0xF) - 8) * y[b].qs[j];
      isum += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
  }
  return sum;
}

float vec_dot_q4_1(int64_t n, const void* w, const void* a) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK32; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      isum += (x[b].qs[j] & 0xF) * y[b].qs[j];
      isum += (x[b].qs[j] >> 4) * y[b].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d)) +
           fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
  }
  return sum;
}

float vec_dot_q5_0(int64_t n, const void* w, const void* a) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK32; ++b) {
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    int32_t isum = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      isum += (((x[b].qs[j] & 0xF) | h0) - 16) * y[b].qs[j];
      isum += (((x[b].qs[j] >> 4) | h1) - 16) * y[b].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
  }
  return sum;
}

float vec_dot_q5_1(int64_t n, const void* w, const void* a) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK32; ++b) {
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    int32_t isum = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      isum += ((x[b].qs[j] & 0xF) | h0) * y[b].qs[j];
      isum += ((x[b].qs[j] >> 4) | h1) * y[b].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d)) +
           fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
  }
  return sum;
}

float vec_dot_q8_0(int64_t n, const void* w, const void* a) {
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK32; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK32; ++j) isum += x[b].qs[j] * y[b].qs[j];
    sum += static_cast<float>(isum) * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
  }
  return sum;
}

float vec_dot_q2_k(int64_t n, const void* w, const void* a) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    int32_t mins = 0;
    for (int j = 0; j < 16; ++j) mins += y[b].bsums[j] * (x[b].scales[j] >> 4);
    int32_t isum = 0;
    // Element 128*h + 32*k + l is bits 2k..2k+1 of qs[32*h + l]; its scale is 16-element group.
    for (int i = 0; i < kQKK; ++i) {
      const int h = i / 128, k = (i % 128) / 32, l = i % 32;
      const int q = (x[b].qs[32 * h + l] >> (2 * k)) & 3;
      isum += (x[b].scales[i / 16] & 0xF) * q * y[b].qs[i];
    }
    const float d = fp16_to_fp32(x[b].d) * y[b].d;
    const float dmin = fp16_to_fp32(x[b].dmin) * y[b].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(mins);
  }
  return sum;
}

float vec_dot_q3_k(int64_t n, const void* w, const void* a) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    int8_t scales[16];
    unpack_q3_k_scales(x[b].scales, scales);
    int32_t isum = 0;
    for (int g = 0; g < 16; ++g) {
      int32_t gsum = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        const int h = i / 128, k = (i % 128) / 32, l = i % 32;
        const int low = (x[b].qs[32 * h + l] >> (2 * k)) & 3;
        const int high_set = (x[b].hmask[l] >> (4 * h + k)) & 1;
        gsum += (low - (high_set ? 0 : 4)) * y[b].qs[i];
      }
      isum += scales[g] * gsum;
    }
    sum += (fp16_to_fp32(x[b].d) * y[b].d) * static_cast<float>(isum);
  }
  return sum;
}

float vec_dot_q4_k(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    uint8_t scales[8], mins[8];
    unpack_k4_scales(x[b].scales, scales, mins);
    int32_t isum = 0;
    for (int s = 0; s < 8; ++s) {  // 8 groups of 32: low nibbles then high nibbles of 32 bytes
      const uint8_t* q = x[b].qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      int32_t gsum = 0;
      for (int l = 0; l < 32; ++l) gsum += ((q[l] >> shift) & 0xF) * y[b].qs[32 * s + l];
      isum += scales[s] * gsum;
    }
    const float d = fp16_to_fp32(x[b].d) * y[b].d;
    const float dmin = fp16_to_fp32(x[b].dmin) * y[b].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(bsum_dot_mins(y[b], mins));
  }
  return sum;
}

float vec_dot_q5_k(int64_t n, const void* w, const void* a) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    uint8_t scales[8], mins[8];
    unpack_k4_scales(x[b].scales, scales, mins);
    int32_t isum = 0;
    for (int s = 0; s < 8; ++s) {
      const uint8_t* q = x[b].qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      int32_t gsum = 0;
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> shift) & 0xF) | (((x[b].qh[l] >> s) & 1) << 4);
        gsum += v * y[b].qs[32 * s + l];
      }
      isum += scales[s] * gsum;
    }
    const float d = fp16_to_fp32(x[b].d) * y[b].d;
    const float dmin = fp16_to_fp32(x[b].dmin) * y[b].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(bsum_dot_mins(y[b], mins));
  }
  return sum;
}

float vec_dot_q6_k(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    int32_t isum = 0;
    for (int g = 0; g < 16; ++g) {
      int32_t gsum = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        // Element 128*h + 32*k + l: low 4 bits from ql[64*h + l + 32*(k%2)] (nibble k/2),
        // high 2 bits from qh[32*h + l] bits 2k..2k+1.
        const int h = i / 128, k = (i % 128) / 32, l = i % 32;
        const int low = (x[b].ql[64 * h + l + 32 * (k % 2)] >> (4 * (k / 2))) & 0xF;
        const int high = (x[b].qh[32 * h + l] >> (2 * k)) & 3;
        gsum += ((low | (high << 4)) - 32) * y[b].qs[i];
      }
      isum += x[b].scales[g] * gsum;
    }
    sum += (fp16_to_fp32(x[b].d) * y[b].d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace inference::kernels::detail
