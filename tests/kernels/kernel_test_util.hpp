// Helpers for the kernel tests: random weight rows of any supported format, float64 references.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu/matmul.hpp"

namespace inference::kernels::test {

/// Bytes of one row of `cols` elements of a weight or activation type.
size_t row_bytes(GgmlType type, int64_t cols);

/// A row of random blocks: random quants, and scale fields set to finite fp16 values of a
/// realistic size (random bytes there would give NaN/Inf).
std::vector<uint8_t> random_row(GgmlType type, int64_t cols, std::mt19937& rng);

/// Random floats, normal(0, scale).
std::vector<float> random_floats(int64_t n, std::mt19937& rng, float scale = 1.f);

/// Dequantises an activation row (F32, F16, BF16, Q8_0, Q8_1, Q8_K) to float.
std::vector<float> dequantize_activation(GgmlType act_type, const void* data, int64_t n);

/// The activation row of `x` in the format `weight_type` pairs with.
std::vector<uint8_t> quantize_activation_for(GgmlType weight_type, const float* x, int64_t n);

/// Every weight type matmul supports.
std::vector<GgmlType> supported_types();

}  // namespace inference::kernels::test
