// cli/row_encoder.hpp — turns float rows into the bytes of a ggml tensor type, for the model
// generator. Plain types are converted here; block-quantised types go through the kernels'
// quantiser (the same code `infer quantize` uses), so generated files hold real blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "formats/ggml_types.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/fp16.hpp"

namespace inference::cli {

/// Whether encode_rows() can produce `type`.
inline bool row_encoder_supports(formats::GgmlType type) {
  using formats::GgmlType;
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
}

/// Encodes n_rows rows of `cols` floats into `dst` (n_rows * ggml_row_bytes(type, cols) bytes).
inline void encode_rows(formats::GgmlType type, const float* src, int64_t n_rows, int64_t cols,
                        std::byte* dst) {
  using formats::GgmlType;
  const auto n = static_cast<size_t>(n_rows * cols);
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case GgmlType::F16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = kernels::fp32_to_fp16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case GgmlType::BF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = kernels::fp32_to_bf16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    default:
      break;
  }
  auto info = formats::ggml_type_info(type);
  throw Error(ErrorCode::unsupported, "cannot write tensors of type " +
                                          std::string(info ? info->name : "?") +
                                          " (no quantiser for it in this build)");
}

}  // namespace inference::cli
