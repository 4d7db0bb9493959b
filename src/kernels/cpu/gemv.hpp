// kernels/cpu/gemv.hpp — decode matmuls through the row-vector kernels (gemv_kernel.hpp), used
// by matmul() for small batches of the formats that have one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/gemv_kernel.hpp"

#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::kernels::detail {

/// Whether matmul() takes the row-vector path for this weight type and batch (if the active
/// SIMD level has a kernel for it): batches too small for the panel GEMM.
bool gemv_wanted(GgmlType type, int64_t n_tokens) noexcept;

/// Extra scratch the row-vector path needs after the quantised activations (0 if not wanted).
size_t gemv_scratch_bytes(GgmlType type, int64_t cols, int64_t n_tokens) noexcept;

/// The row-vector kernels' view of quantised activations (`act`, `act_stride` bytes per token,
/// blocks of Q8_0, Q8_1 or Q8_K): quants copied out of their blocks and per-32-element scales and
/// sums, written to `extra` (gemv_scratch_bytes()); with `interleaved`, also the quants in the
/// interleaved runs' order (partial runs packed where `table` reads them so). Depends only on the
/// activation format, so one preparation serves every weight of a gemv type multiplied with the
/// same activations.
GemvActivations prepare_gemv_activations(const KernelTable& table, GgmlType type, int64_t cols,
                                         const std::byte* act, size_t act_stride, int64_t n_tokens,
                                         std::byte* extra, bool interleaved);

/// The row-vector kernel for w in its layout, or null.
GemvFn gemv_kernel(const KernelTable& table, const WeightView& w) noexcept;

/// Rows [r0, r1) of y = w × act through gemv_kernel(table, w).
void gemv_rows(const KernelTable& table, const WeightView& w, const GemvActivations& act,
               int64_t n_tokens, float* y, int64_t y_stride, int64_t r0, int64_t r1);

/// y = w × activations (already quantised at `act`, `act_stride` bytes per token); `extra` is
/// the gemv_scratch_bytes() area. Needs gemv_kernel(table, w).
void gemv(ThreadPool& pool, const KernelTable& table, const WeightView& w, const std::byte* act,
          size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride, std::byte* extra);

}  // namespace inference::kernels::detail
