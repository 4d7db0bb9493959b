// kernels/cpu/dequantize.cpp — block formats to float32, bit-exact with ggml's reference
// dequantisers (same float operations in the same order: d * q, or d * q - m with d and m
// computed first).
#include <cstring>
#include <string>

#include "inference/error.hpp"
#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/k_scales.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/mlx_affine8.hpp"

namespace inference::kernels {
namespace {

void dequant_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK32) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < kQK32 / 2; ++j) {
      y[j] = static_cast<float>((x[b].qs[j] & 0xF) - 8) * d;
      y[j + 16] = static_cast<float>((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequant_q4_1(const BlockQ4_1* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK32) {
    const float d = fp16_to_fp32(x[b].d);
    const float m = fp16_to_fp32(x[b].m);
    for (int j = 0; j < kQK32 / 2; ++j) {
      y[j] = static_cast<float>(x[b].qs[j] & 0xF) * d + m;
      y[j + 16] = static_cast<float>(x[b].qs[j] >> 4) * d + m;
    }
  }
}

void dequant_q5_0(const BlockQ5_0* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK32) {
    const float d = fp16_to_fp32(x[b].d);
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      y[j] = static_cast<float>(((x[b].qs[j] & 0xF) | h0) - 16) * d;
      y[j + 16] = static_cast<float>(((x[b].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void dequant_q5_1(const BlockQ5_1* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK32) {
    const float d = fp16_to_fp32(x[b].d);
    const float m = fp16_to_fp32(x[b].m);
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      y[j] = static_cast<float>((x[b].qs[j] & 0xF) | h0) * d + m;
      y[j + 16] = static_cast<float>((x[b].qs[j] >> 4) | h1) * d + m;
    }
  }
}

void dequant_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQK32) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < kQK32; ++j) y[j] = static_cast<float>(x[b].qs[j]) * d;
  }
}

void dequant_q2_k(const BlockQ2_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQKK) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    for (int i = 0; i < kQKK; ++i) {
      const int h = i / 128, k = (i % 128) / 32, l = i % 32;
      const uint8_t sc = x[b].scales[i / 16];
      const float dl = d * static_cast<float>(sc & 0xF);
      const float ml = dmin * static_cast<float>(sc >> 4);
      y[i] = dl * static_cast<float>((x[b].qs[32 * h + l] >> (2 * k)) & 3) - ml;
    }
  }
}

void dequant_q3_k(const BlockQ3_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQKK) {
    const float d = fp16_to_fp32(x[b].d);
    const uint8_t* p = x[b].scales;
    for (int i = 0; i < kQKK; ++i) {
      const int g = i / 16;
      const int low = g < 8 ? (p[g] & 0xF) : (p[g - 8] >> 4);
      const int high = (p[8 + (g % 4)] >> (2 * (g / 4))) & 3;
      const float dl = d * static_cast<float>((low | (high << 4)) - 32);
      const int h = i / 128, k = (i % 128) / 32, l = i % 32;
      const int q = (x[b].qs[32 * h + l] >> (2 * k)) & 3;
      const int high_set = (x[b].hmask[l] >> (4 * h + k)) & 1;
      y[i] = dl * static_cast<float>(q - (high_set ? 0 : 4));
    }
  }
}

void dequant_q4_k(const BlockQ4_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQKK) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      k4_scale_min(s, x[b].scales, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      const uint8_t* q = x[b].qs + 32 * (s / 2);
      for (int l = 0; l < 32; ++l) {
        y[32 * s + l] = dl * static_cast<float>((q[l] >> (4 * (s % 2))) & 0xF) - ml;
      }
    }
  }
}

void dequant_q5_k(const BlockQ5_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQKK) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      k4_scale_min(s, x[b].scales, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      const uint8_t* q = x[b].qs + 32 * (s / 2);
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> (4 * (s % 2))) & 0xF) + (((x[b].qh[l] >> s) & 1) ? 16 : 0);
        y[32 * s + l] = dl * static_cast<float>(v) - ml;
      }
    }
  }
}

void dequant_q6_k(const BlockQ6_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kQKK) {
    const float d = fp16_to_fp32(x[b].d);
    for (int i = 0; i < kQKK; ++i) {
      const int h = i / 128, k = (i % 128) / 32, l = i % 32;
      const int low = (x[b].ql[64 * h + l + 32 * (k % 2)] >> (4 * (k / 2))) & 0xF;
      const int high = (x[b].qh[32 * h + l] >> (2 * k)) & 3;
      y[i] = d * static_cast<float>(x[b].scales[i / 16]) *
             static_cast<float>((low | (high << 4)) - 32);
    }
  }
}

template <typename Block>
const Block* as(const void* p) {
  return static_cast<const Block*>(p);
}

}  // namespace

void dequantize_row(GgmlType type, const void* src, float* out, int64_t n) {
  if (type == kMlxAffine8) {  // the engine's load-time block format for MLX weights
    if (n < 0 || n % kMlxBlock != 0) {
      throw Error(ErrorCode::invalid_argument,
                  "dequantize_row: " + std::to_string(n) +
                      " elements is not a whole number of MLX blocks of " +
                      std::to_string(kMlxBlock));
    }
    return dequantize_row_mlx_affine8(src, out, n);
  }
  const int64_t block =
      type == GgmlType::Q2_K || type == GgmlType::Q3_K || type == GgmlType::Q4_K ||
              type == GgmlType::Q5_K || type == GgmlType::Q6_K
          ? kQKK
      : type == GgmlType::Q4_0 || type == GgmlType::Q4_1 || type == GgmlType::Q5_0 ||
              type == GgmlType::Q5_1 || type == GgmlType::Q8_0
          ? kQK32
          : 1;
  if (n < 0 || n % block != 0) {
    throw Error(ErrorCode::invalid_argument, "dequantize_row: " + std::to_string(n) +
                                                 " elements is not a whole number of blocks of " +
                                                 std::to_string(block));
  }
  switch (type) {
    case GgmlType::F32:
      std::memcpy(out, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(static_cast<const uint16_t*>(src)[i]);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_fp32(static_cast<const uint16_t*>(src)[i]);
      return;
    case GgmlType::Q4_0:
      return dequant_q4_0(as<BlockQ4_0>(src), out, n / kQK32);
    case GgmlType::Q4_1:
      return dequant_q4_1(as<BlockQ4_1>(src), out, n / kQK32);
    case GgmlType::Q5_0:
      return dequant_q5_0(as<BlockQ5_0>(src), out, n / kQK32);
    case GgmlType::Q5_1:
      return dequant_q5_1(as<BlockQ5_1>(src), out, n / kQK32);
    case GgmlType::Q8_0:
      return dequant_q8_0(as<BlockQ8_0>(src), out, n / kQK32);
    case GgmlType::Q2_K:
      return dequant_q2_k(as<BlockQ2_K>(src), out, n / kQKK);
    case GgmlType::Q3_K:
      return dequant_q3_k(as<BlockQ3_K>(src), out, n / kQKK);
    case GgmlType::Q4_K:
      return dequant_q4_k(as<BlockQ4_K>(src), out, n / kQKK);
    case GgmlType::Q5_K:
      return dequant_q5_k(as<BlockQ5_K>(src), out, n / kQKK);
    case GgmlType::Q6_K:
      return dequant_q6_k(as<BlockQ6_K>(src), out, n / kQKK);
    default:
      throw Error(ErrorCode::unsupported, "dequantize_row: tensor type id " +
                                              std::to_string(static_cast<uint32_t>(type)) +
                                              " is not supported by the CPU kernels");
  }
}

}  // namespace inference::kernels
