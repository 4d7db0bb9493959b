// kernels/cpu/quantize_detail.hpp — the per-format reference quantisers behind quantize_row().
#pragma once

#include <cstdint>

namespace inference::kernels::detail {

void quantize_q8_0(const float* x, void* out, int64_t n);
void quantize_q4_0(const float* x, void* out, int64_t n);
void quantize_q4_1(const float* x, void* out, int64_t n);
void quantize_q5_0(const float* x, void* out, int64_t n);
void quantize_q5_1(const float* x, void* out, int64_t n);
void quantize_q4_k(const float* x, void* out, int64_t n);
void quantize_q5_k(const float* x, void* out, int64_t n);
void quantize_q6_k(const float* x, void* out, int64_t n);

/// llama.cpp's nearest_int: round half to even through the 1.5 * 2^23 magic number (exact for
/// |v| < 2^22, which every caller guarantees).
int nearest_int(float v) noexcept;

}  // namespace inference::kernels::detail
