// testing/row_encoder.hpp — turns float rows into the bytes of a ggml tensor type, for the model
// generator. Everything goes through the kernels' reference quantiser (the code `infer quantize`
// uses, bit-identical to llama-quantize), so generated files hold real blocks; F32 is a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "formats/ggml_types.hpp"
#include "kernels/cpu/quantize.hpp"

namespace inference::testing {

/// Whether encode_rows() can produce `type`.
inline bool row_encoder_supports(formats::GgmlType type) {
  return type == formats::GgmlType::F32 || kernels::quantize_supported(type);
}

/// Encodes n_rows rows of `cols` floats into `dst` (n_rows * ggml_row_bytes(type, cols) bytes).
inline void encode_rows(formats::GgmlType type, const float* src, int64_t n_rows, int64_t cols,
                        std::byte* dst) {
  if (type == formats::GgmlType::F32) {
    std::memcpy(dst, src, static_cast<size_t>(n_rows * cols) * sizeof(float));
    return;
  }
  const size_t row_bytes = *formats::ggml_row_bytes(type, static_cast<uint64_t>(cols));
  for (int64_t r = 0; r < n_rows; ++r) {
    kernels::quantize_row(type, src + r * cols, dst + static_cast<size_t>(r) * row_bytes, cols);
  }
}

}  // namespace inference::testing
