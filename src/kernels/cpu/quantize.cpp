// kernels/cpu/quantize.cpp — quantize_row(): dispatch to the reference quantisers.
#include "kernels/cpu/quantize.hpp"

#include <string>

#include "inference/error.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/quantize_activation.hpp"
#include "kernels/cpu/quantize_detail.hpp"

namespace inference::kernels {
namespace {

using formats::GgmlType;
using QuantizeFn = void (*)(const float*, void*, int64_t);

struct Quantizer {
  QuantizeFn fn;
  int64_t block;
};

void to_f32(const float* x, void* out, int64_t n) {
  auto* y = static_cast<float*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i];
}
void to_f16(const float* x, void* out, int64_t n) {
  quantize_activation_f16(x, out, n);
}
void to_bf16(const float* x, void* out, int64_t n) {
  quantize_activation_bf16(x, out, n);
}

Quantizer quantizer(GgmlType type) noexcept {
  switch (type) {
    case GgmlType::F32:
      return {to_f32, 1};
    case GgmlType::F16:
      return {to_f16, 1};
    case GgmlType::BF16:
      return {to_bf16, 1};
    case GgmlType::Q8_0:
      return {detail::quantize_q8_0, 32};
    case GgmlType::Q4_0:
      return {detail::quantize_q4_0, 32};
    case GgmlType::Q4_1:
      return {detail::quantize_q4_1, 32};
    case GgmlType::Q5_0:
      return {detail::quantize_q5_0, 32};
    case GgmlType::Q5_1:
      return {detail::quantize_q5_1, 32};
    case GgmlType::Q4_K:
      return {detail::quantize_q4_k, 256};
    case GgmlType::Q5_K:
      return {detail::quantize_q5_k, 256};
    case GgmlType::Q6_K:
      return {detail::quantize_q6_k, 256};
    default:
      return {nullptr, 0};
  }
}

}  // namespace

bool quantize_supported(GgmlType type) noexcept {
  return quantizer(type).fn != nullptr;
}

void quantize_row(GgmlType type, const float* x, void* out, int64_t n) {
  const Quantizer q = quantizer(type);
  if (q.fn == nullptr) {
    throw Error(ErrorCode::unsupported, "quantize: cannot quantise to tensor type id " +
                                            std::to_string(static_cast<uint32_t>(type)));
  }
  if (n < 0 || n % q.block != 0) {
    throw Error(ErrorCode::invalid_argument, "quantize: row length " + std::to_string(n) +
                                                 " is not a multiple of the block size " +
                                                 std::to_string(q.block));
  }
  q.fn(x, out, n);
}

}  // namespace inference::kernels
