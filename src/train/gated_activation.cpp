#include "train/gated_activation.hpp"

#include "kernels/cpu/ops/fast_exp.hpp"
#include "train/simd_clones.hpp"

namespace inference::train {

namespace {

using kernels::detail::exp_approx;

INFERENCE_TRAIN_CLONES void silu_forward(const float* __restrict g, const float* __restrict u,
                                         float* __restrict act, float* __restrict dact,
                                         float* __restrict f, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    const float x = g[i];
    const float sig = 1.0f / (1.0f + exp_approx(-x));
    const float a = x * sig;
    act[i] = a;
    dact[i] = sig * (1.0f + x * (1.0f - sig));
    f[i] = a * u[i];
  }
}

// tanh(v) = 1 − 2 / (e^{2v} + 1): ±1 where e^{2v} overflows or vanishes, and an absolute error of
// a float ulp near 0, where GELU adds it to 1 anyway.
INFERENCE_TRAIN_CLONES void gelu_forward(const float* __restrict g, const float* __restrict u,
                                         float* __restrict act, float* __restrict dact,
                                         float* __restrict f, int64_t n) noexcept {
  constexpr float k = 0.7978845608028654f;  // sqrt(2/pi)
  constexpr float c = 0.044715f;
  for (int64_t i = 0; i < n; ++i) {
    const float x = g[i];
    const float v = k * (x + c * x * x * x);
    const float th = 1.0f - 2.0f / (exp_approx(2.0f * v) + 1.0f);
    const float a = 0.5f * x * (1.0f + th);
    act[i] = a;
    dact[i] = 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * k * (1.0f + 3.0f * c * x * x);
    f[i] = a * u[i];
  }
}

}  // namespace

void gated_activation_forward(bool gelu, const float* g, const float* u, float* act, float* dact,
                              float* f, int64_t n) noexcept {
  if (gelu) {
    gelu_forward(g, u, act, dact, f, n);
  } else {
    silu_forward(g, u, act, dact, f, n);
  }
}

}  // namespace inference::train
