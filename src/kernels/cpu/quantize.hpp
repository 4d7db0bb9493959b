// kernels/cpu/quantize.hpp — reference weight quantisers: float32 rows to ggml block formats.
//
// These reproduce llama.cpp's reference quantisers (llama-quantize without an importance
// matrix) bit for bit: the same search for block scales and mins, the same rounding. Used by
// `infer quantize` and by tests; not on the inference path.
#pragma once

#include <cstdint>

#include "formats/ggml_types.hpp"

namespace inference::kernels {

/// Whether quantize_row can produce `type` (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K,
/// Q5_K, Q6_K).
bool quantize_supported(formats::GgmlType type) noexcept;

/// Quantises `n` floats (n a multiple of the type's block size) into `out`, which must hold
/// ggml_row_bytes(type, n) bytes. Throws inference::Error(unsupported) for other types and
/// Error(invalid_argument) for a length that is not a multiple of the block size.
void quantize_row(formats::GgmlType type, const float* x, void* out, int64_t n);

}  // namespace inference::kernels
