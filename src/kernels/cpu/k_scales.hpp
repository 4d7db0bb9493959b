// kernels/cpu/k_scales.hpp — the packed 6-bit scales and mins of Q4_K/Q5_K super-blocks.
//
// 12 bytes hold 8 scales and 8 mins: sub-blocks 0-3 in the low 6 bits of bytes 0-3 (scales) and
// 4-7 (mins); sub-blocks 4-7 take their low 4 bits from bytes 8-11 and their top 2 bits from the
// spare high bits of bytes 0-7 (the GGUF K-quant layout).
#pragma once

#include <cstdint>

namespace inference::kernels {

inline void k4_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) noexcept {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace inference::kernels
