// kernels/cpu/activation_sums.hpp — per-group scale and scaled sum of a quantised activation
// row, and where its int8 quants sit: what the panel GEMM and the row-vector kernels need to
// apply a weight format's offset (weight = scale * q - min) once per group instead of per
// element.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_types.hpp"

namespace inference::kernels::detail {

/// Layout of the activation blocks that weights of `weight_type` pair with (Q8_K, Q8_0, Q8_1).
struct ActivationLayout {
  int block_shift;  ///< log2(elements per block)
  size_t block_bytes;
  size_t quants_offset;  ///< offset of the int8 quants in a block
};
ActivationLayout activation_layout(formats::GgmlType weight_type) noexcept;

/// For each of `groups` groups of `group` elements of one activation row: scale[g * stride] =
/// the activation scale, sum[g * stride] = scale * sum of the group's quants (for Q8_1: its
/// stored s).
void activation_group_sums(formats::GgmlType weight_type, int group, const std::byte* act,
                           int64_t groups, float* scale, float* sum, int64_t stride = 1) noexcept;

}  // namespace inference::kernels::detail
