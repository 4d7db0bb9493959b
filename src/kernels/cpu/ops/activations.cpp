// kernels/cpu/ops/activations.cpp — see activations.hpp; SIMD variants of swiglu/geglu in
// ops_avx2.cpp / ops_avx512.cpp.
#include "kernels/cpu/ops/activations.hpp"

#include <array>
#include <cmath>
#include <memory>

#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/ops/fast_exp.hpp"
#include "kernels/cpu/ops/ops_table.hpp"

namespace inference::kernels {
namespace {

constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kGeluCoefA = 0.044715f;

}  // namespace

// GELU of every F16 value, rounded to F16 and stored as its float value (so SIMD variants can
// gather it directly). Built once on first use (thread-safe static).
const float* detail::gelu_f16_values() noexcept {
  static const std::unique_ptr<std::array<float, 65536>> table = [] {
    auto t = std::make_unique<std::array<float, 65536>>();
    for (uint32_t i = 0; i < 65536; ++i) {
      const float x = fp16_to_fp32(static_cast<uint16_t>(i));
      (*t)[i] = fp16_to_fp32(fp32_to_fp16(gelu_tanh_exact(x)));
    }
    return t;
  }();
  return table->data();
}

float silu(float x) noexcept {
  return x / (1.0f + detail::exp_approx(-x));
}

float gelu_tanh_exact(float x) noexcept {
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kGeluCoefA * x * x)));
}

float gelu_tanh_f16_table(float x) noexcept {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return detail::gelu_f16_values()[fp32_to_fp16(x)];
}

void detail::swiglu_scalar(const float* gate, const float* up, float* out, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
}

void detail::geglu_scalar(const float* gate, const float* up, float* out, int64_t n) noexcept {
  const float* table = gelu_f16_values();
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    float g;
    if (x <= -10.0f) {
      g = 0.0f;
    } else if (x >= 10.0f) {
      g = x;
    } else {
      g = table[fp32_to_fp16(x)];
    }
    out[i] = g * up[i];
  }
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) noexcept {
  detail::active_ops_table().swiglu(gate, up, out, n);
}

void geglu(const float* gate, const float* up, float* out, int64_t n) noexcept {
  detail::active_ops_table().geglu(gate, up, out, n);
}

}  // namespace inference::kernels
