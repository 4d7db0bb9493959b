// kernels/cpu/gemm.hpp — prefill matmuls through weight panels (gemm_panel.hpp), used by
// matmul() when a batch is large enough that unpacking the weights once pays for itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::kernels::detail {

/// The smallest batch that takes the panel path for `type` (0: never). Smaller batches use the
/// dot-product tiles: below it, unpacking a panel costs more than it saves (measured with
/// kernels_bench --tokens, see docs/PERFORMANCE.md: 16 for the 32-element groups; Q6_K's
/// 16-element groups cost twice the float work per element and need 32).
int64_t gemm_min_tokens(GgmlType type) noexcept;

/// Whether matmul() takes the panel path for this weight type and batch (on any SIMD level).
bool gemm_wanted(GgmlType type, int64_t n_tokens) noexcept;

/// Extra scratch the panel path needs after the quantised activations: their copy in the
/// GEMM's layout (ActivationPlane) with per-group scales and sums (0 when gemm_wanted() is
/// false).
size_t gemm_scratch_bytes(GgmlType type, int64_t cols, int64_t n_tokens) noexcept;
/// The same for a batch of any size (MatmulPath::prompt takes the panel path below
/// gemm_min_tokens too); 0 when the type has no panel form.
size_t gemm_scratch_bytes_any_batch(GgmlType type, int64_t cols, int64_t n_tokens) noexcept;

/// Rows [r0, r0 + rows) of w in the file's layout, which the unpackers and dot products read:
/// w's own bytes, or for interleaved rows (RowLayout::interleaved) a copy laid back out on
/// this thread, valid until the thread's next call.
const std::byte* plain_weight_rows(const WeightView& w, int64_t r0, int64_t rows);

/// y = w × activations, the activations already quantised for w.type at `act` (`act_stride`
/// bytes per token); `extra` is the gemm_scratch_bytes() area. Needs table.gemm_panel.
void gemm(ThreadPool& pool, const KernelTable& table, const WeightView& w, const std::byte* act,
          size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride, std::byte* extra);

/// A whole weight matrix unpacked once into the panels gemm() would unpack on every call (its
/// panel height for these columns), for callers that multiply the same weights many times. Where
/// the kernel table reads them, the panels take the smaller forms of packed_panel.hpp.
struct PackedPanels {
  GgmlType type = GgmlType::F32;
  int64_t rows = 0, cols = 0, step = 0;  ///< panels[i] holds rows [i·step, min(rows, (i+1)·step))
  bool packed_forms = false;             ///< panels in packed_panel.hpp's forms
  std::unique_ptr<std::byte[]> memory;
  size_t bytes = 0;
  std::vector<Panel> panels;
};

/// Unpacks w into `out` (over the pool, one panel per work item). False, with `out` untouched,
/// when table has no panel GEMM for w.type or the panel memory cannot be allocated.
bool pack_panels(ThreadPool& pool, const KernelTable& table, const WeightView& w,
                 PackedPanels& out);

/// gemm() over packed panels: the same products, bit for bit, without the unpacking.
void gemm_packed(ThreadPool& pool, const KernelTable& table, const PackedPanels& packed,
                 const std::byte* act, size_t act_stride, int64_t n_tokens, float* y,
                 int64_t y_stride, std::byte* extra);

}  // namespace inference::kernels::detail
