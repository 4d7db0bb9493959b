// kernels/cpu/gemv_tiles.hpp — the loop every row-vector kernel (gemv_*.cpp, gemv_k_*.cpp) runs
// around its per-row arithmetic: each weight row against the tokens in tiles of up to 4, so a
// row's weights are unpacked once per tile, with the tile size a compile-time constant.
//
// Include only from *_avx2.cpp / *_avx512.cpp files; internal linkage, for the reason
// k_quant_simd.hpp gives (each includer is compiled with its own -m flags).
#pragma once

#include <cstddef>
#include <cstdint>

namespace inference::kernels::detail {
namespace {

template <int N>
struct TokenTile {
  static constexpr int kTokens = N;
};

// For each of `rows` weight rows (row_bytes apart from w) and each tile of tokens t0..t0+NT-1,
// dots(row, t0, TokenTile<NT>{}, out) writes the NT results to out; they land in y[t * y_stride
// + r].
template <class Dots>
inline void gemv_in_token_tiles(const void* w, size_t row_bytes, int64_t rows, int64_t n_tokens,
                                float* y, int64_t y_stride, const Dots& dots) {
  for (int64_t r = 0; r < rows; ++r) {
    const void* x = static_cast<const std::byte*>(w) + r * static_cast<int64_t>(row_bytes);
    if (n_tokens == 1) {  // the plain decode: straight into y, no tile bookkeeping
      dots(x, 0, TokenTile<1>{}, y + r);
      continue;
    }
    for (int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
      float out[4];
      const int64_t nt = n_tokens - t0 < 4 ? n_tokens - t0 : 4;
      switch (nt) {
        case 1:
          dots(x, t0, TokenTile<1>{}, out);
          break;
        case 2:
          dots(x, t0, TokenTile<2>{}, out);
          break;
        case 3:
          dots(x, t0, TokenTile<3>{}, out);
          break;
        default:
          dots(x, t0, TokenTile<4>{}, out);
          break;
      }
      for (int64_t t = 0; t < nt; ++t) y[(t0 + t) * y_stride + r] = out[t];
    }
  }
}

}  // namespace
}  // namespace inference::kernels::detail
