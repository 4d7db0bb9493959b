// kernels/cpu/activation_sums.cpp — see activation_sums.hpp.
#include "kernels/cpu/activation_sums.hpp"

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::kernels::detail {

using formats::GgmlType;

ActivationLayout activation_layout(GgmlType weight_type) noexcept {
  switch (activation_type(weight_type)) {
    case GgmlType::Q8_K:
      return {8, sizeof(BlockQ8_K), offsetof(BlockQ8_K, qs)};
    case GgmlType::Q8_1:
      return {5, sizeof(BlockQ8_1), offsetof(BlockQ8_1, qs)};
    default:
      return {5, sizeof(BlockQ8_0), offsetof(BlockQ8_0, qs)};
  }
}

void activation_group_sums(GgmlType weight_type, int group, const std::byte* act, int64_t groups,
                           float* scale, float* sum, int64_t stride) noexcept {
  switch (activation_type(weight_type)) {
    case GgmlType::Q8_K: {
      const auto* blocks = reinterpret_cast<const BlockQ8_K*>(act);
      const int per_block = kQKK / group, bsums_per_group = group / 16;
      for (int64_t g = 0; g < groups; ++g) {
        const BlockQ8_K& b = blocks[g / per_block];
        const int first = static_cast<int>(g % per_block) * bsums_per_group;
        int s = 0;
        for (int i = 0; i < bsums_per_group; ++i) s += b.bsums[first + i];
        scale[g * stride] = b.d;
        sum[g * stride] = b.d * static_cast<float>(s);
      }
      return;
    }
    case GgmlType::Q8_1: {
      // s = d * sum(quants), as the activation quantiser stored it (rounded to F16).
      const auto* blocks = reinterpret_cast<const BlockQ8_1*>(act);
      for (int64_t g = 0; g < groups; ++g) {
        scale[g * stride] = fp16_to_fp32(blocks[g].d);
        sum[g * stride] = fp16_to_fp32(blocks[g].s);
      }
      return;
    }
    default: {
      const auto* blocks = reinterpret_cast<const BlockQ8_0*>(act);
      for (int64_t g = 0; g < groups; ++g) {
        int s = 0;
        for (int i = 0; i < kQK32; ++i) s += blocks[g].qs[i];
        const float d = fp16_to_fp32(blocks[g].d);
        scale[g * stride] = d;
        sum[g * stride] = d * static_cast<float>(s);
      }
      return;
    }
  }
}

}  // namespace inference::kernels::detail
