// kernels/cpu/gemv.hpp — decode matmuls through the row-vector kernels (gemv_kernel.hpp), used
// by matmul() for small batches of the formats that have one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::kernels::detail {

/// Whether matmul() takes the row-vector path for this weight type and batch (if the active
/// SIMD level has a kernel for it): batches too small for the panel GEMM.
bool gemv_wanted(GgmlType type, int64_t n_tokens) noexcept;

/// Extra scratch the row-vector path needs after the quantised activations (0 if not wanted).
size_t gemv_scratch_bytes(GgmlType type, int64_t cols, int64_t n_tokens) noexcept;

/// y = w × activations (already quantised at `act`, `act_stride` bytes per token); `extra` is
/// the gemv_scratch_bytes() area. Needs table.gemv[w.type].
void gemv(ThreadPool& pool, const KernelTable& table, const WeightView& w, const std::byte* act,
          size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride, std::byte* extra);

}  // namespace inference::kernels::detail
