// kernels/cpu/quantize_activation.hpp — rounding float activations into the format a weight type
// is multiplied against, exactly as llama.cpp's x86 CPU path rounds them (this is what makes
// quantised models reproduce the reference closely).
#pragma once

#include <cstdint>

namespace inference::kernels {

/// Q8_0 blocks of 32: d = fp16(amax / 127), q = round-half-even(x * (127 / amax)).
void quantize_activation_q8_0(const float* x, void* out, int64_t n) noexcept;
/// Q8_1 blocks of 32: as Q8_0, plus s = fp16(d * sum(q)) with d the float (unrounded) scale.
void quantize_activation_q8_1(const float* x, void* out, int64_t n) noexcept;
/// Q8_K blocks of 256: with `max` the signed element of largest magnitude, iscale = -127/max,
/// q = min(127, round-half-even(iscale * x)), d = 1/iscale (float), bsums of 16-element groups.
void quantize_activation_q8_k(const float* x, void* out, int64_t n) noexcept;
/// Round to nearest even fp16 / bf16.
void quantize_activation_f16(const float* x, void* out, int64_t n) noexcept;
void quantize_activation_bf16(const float* x, void* out, int64_t n) noexcept;

}  // namespace inference::kernels
