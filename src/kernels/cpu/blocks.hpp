// kernels/cpu/blocks.hpp — the ggml block layouts (as published by ggml and stored in GGUF), the
// activation block formats the integer dot products consume, and per-type sizes.
//
// Only plain structs and constants: SIMD translation units include this header too, so it must
// not define inline functions that could be instantiated with different target flags (ODR).
#pragma once

#include <cstddef>
#include <cstdint>

namespace inference::kernels {

inline constexpr int kQK32 = 32;        ///< elements per block of the 32-element formats
inline constexpr int kQKK = 256;        ///< elements per super-block of the K-quants
inline constexpr int kKScaleSize = 12;  ///< packed 6-bit scale/min bytes of Q4_K/Q5_K

// fp16 fields are stored as raw uint16_t bits (convert with fp16.hpp).

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK32 / 2];  ///< element j in low nibble of byte j, element j+16 in high nibble
};
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK32 / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  ///< 5th bit of each element (little-endian uint32)
  uint8_t qs[kQK32 / 2];
};
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK32 / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK32];
};
/// Activation format for Q4_1/Q5_1: s = d * sum(qs), both fp16.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK32];
};
struct BlockQ2_K {
  uint8_t scales[kQKK / 16];  ///< low nibble scale, high nibble min, per 16 elements
  uint8_t qs[kQKK / 4];
  uint16_t d;
  uint16_t dmin;
};
struct BlockQ3_K {
  uint8_t hmask[kQKK / 8];
  uint8_t qs[kQKK / 4];
  uint8_t scales[12];  ///< 16 packed 6-bit scales (biased by 32)
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];  ///< 8 packed 6-bit scales and 8 6-bit mins
  uint8_t qs[kQKK / 2];
};
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
/// Activation format for the K-quants: float scale, and the sums of each 16 quants so the
/// weight mins can be applied without touching the quants again.
struct BlockQ8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(alignof(BlockQ4_0) == 2 && alignof(BlockQ8_K) == 4);

}  // namespace inference::kernels
