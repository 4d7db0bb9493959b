// kernels/cpu/ops/activations.cpp — see activations.hpp.
#include "kernels/cpu/ops/activations.hpp"

#include <array>
#include <cmath>
#include <memory>

#include "kernels/cpu/fp16.hpp"

namespace inference::kernels {
namespace {

constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kGeluCoefA = 0.044715f;

// GELU of every F16 value, stored as F16 bits. Built once on first use (thread-safe static).
const uint16_t* gelu_table() noexcept {
  static const std::unique_ptr<std::array<uint16_t, 65536>> table = [] {
    auto t = std::make_unique<std::array<uint16_t, 65536>>();
    for (uint32_t i = 0; i < 65536; ++i) {
      const float x = fp16_to_fp32(static_cast<uint16_t>(i));
      (*t)[i] = fp32_to_fp16(gelu_tanh_exact(x));
    }
    return t;
  }();
  return table->data();
}

}  // namespace

float silu(float x) noexcept {
  return x / (1.0f + std::exp(-x));
}

float gelu_tanh_exact(float x) noexcept {
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kGeluCoefA * x * x)));
}

float gelu_tanh_f16_table(float x) noexcept {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return fp16_to_fp32(gelu_table()[fp32_to_fp16(x)]);
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
}

void geglu(const float* gate, const float* up, float* out, int64_t n) noexcept {
  const uint16_t* table = gelu_table();
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    float g;
    if (x <= -10.0f) {
      g = 0.0f;
    } else if (x >= 10.0f) {
      g = x;
    } else {
      g = fp16_to_fp32(table[fp32_to_fp16(x)]);
    }
    out[i] = g * up[i];
  }
}

}  // namespace inference::kernels
