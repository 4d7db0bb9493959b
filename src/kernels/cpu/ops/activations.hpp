// kernels/cpu/ops/activations.hpp — the gated FFN activations: SiLU (SwiGLU) and GELU-tanh
// (GeGLU).
//
// GELU is evaluated the way the reference's CPU path does it: the input is rounded to F16 and
// looked up in a 65536-entry table of F16 results (identity above 10, zero below -10). That
// rounding is visible in the logits (README "Model semantics"), so exactness needs it.
#pragma once

#include <cstdint>

namespace inference::kernels {

/// x / (1 + exp(-x)), with exp_approx (fast_exp.hpp), as every SIMD variant computes it.
float silu(float x) noexcept;
/// The exact tanh-form GELU in float: 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))).
float gelu_tanh_exact(float x) noexcept;
/// GELU through the F16 table (see the file comment).
float gelu_tanh_f16_table(float x) noexcept;

/// out[i] = silu(gate[i]) * up[i]. out may alias gate or up.
void swiglu(const float* gate, const float* up, float* out, int64_t n) noexcept;
/// out[i] = gelu_tanh_f16_table(gate[i]) * up[i]. out may alias gate or up.
void geglu(const float* gate, const float* up, float* out, int64_t n) noexcept;

}  // namespace inference::kernels
