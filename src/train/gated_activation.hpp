// train/gated_activation.hpp — the gated FFN's element-wise part of the float training path:
// the activation of the gate, its derivative (kept for the backward pass) and the product with
// the up projection, vectorised (the engine's exp, fast_exp.hpp: within a few ulps of e^x).
#pragma once

#include <cstdint>

namespace inference::train {

/// act = φ(g), dact = φ'(g), f = act·u for n elements; φ = SiLU, or GELU's tanh form.
void gated_activation_forward(bool gelu, const float* g, const float* u, float* act, float* dact,
                              float* f, int64_t n) noexcept;

}  // namespace inference::train
