// kernels/cpu/gemv.cpp — the row-vector driver: each token's activation quants copied out of
// their blocks (contiguous, so the kernel loads two blocks' worth at once) with per-block scales
// and sums, then weight rows split across the threads.
#include "kernels/cpu/gemv.hpp"

#include <cstring>

#include "kernels/cpu/activation_sums.hpp"
#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/interleaved_rows.hpp"
#include "kernels/cpu/row_shares.hpp"

namespace inference::kernels::detail {
namespace {

size_t align64(size_t n) {
  return (n + 63) & ~size_t{63};
}

// Types some SIMD level has row-vector kernels for (Q4_1/Q5_1/Q4_K/Q5_K only in the interleaved
// layout; the K-quants in the file's layout have their own, gemv_k).
bool has_row_kernel_form(GgmlType type) {
  return type == GgmlType::Q8_0 || has_interleaved_form(type);
}

struct GemvJob {
  const KernelTable* table;
  const WeightView* w;
  GemvActivations act;
  int64_t n_tokens;
  float* y;
  int64_t y_stride;
  RowShares* shares;
};

}  // namespace

bool gemv_wanted(GgmlType type, int64_t n_tokens) noexcept {
  return has_row_kernel_form(type) && n_tokens >= 1 && n_tokens < gemm_min_tokens(type);
}

size_t gemv_scratch_bytes(GgmlType type, int64_t cols, int64_t n_tokens) noexcept {
  if (!gemv_wanted(type, n_tokens) || cols <= 0) return 0;
  const auto n = static_cast<size_t>(n_tokens);
  const auto blocks = static_cast<size_t>(cols / kQK32);
  const size_t runs =
      has_interleaved_form(type) ? align64(n * interleaved_activation_bytes(cols / kQK32)) : 0;
  return 64 + align64(n * static_cast<size_t>(cols)) + 2 * align64(n * blocks * sizeof(float)) +
         runs;
}

GemvActivations prepare_gemv_activations(const KernelTable& table, GgmlType type, int64_t cols,
                                         const std::byte* act, size_t act_stride, int64_t n_tokens,
                                         std::byte* extra, bool interleaved) {
  const int64_t blocks = cols / kQK32;
  const auto base = reinterpret_cast<uintptr_t>(extra);
  auto* quants = reinterpret_cast<int8_t*>(extra + (align64(base) - base));
  auto* scale = reinterpret_cast<float*>(
      quants + align64(static_cast<size_t>(n_tokens) * static_cast<size_t>(cols)));
  float* sum =
      scale + align64(static_cast<size_t>(n_tokens * blocks) * sizeof(float)) / sizeof(float);
  // Q8_0 blocks, or Q8_1 (with their stored sums) for the formats with a min.
  const ActivationLayout layout = activation_layout(type);
  // Per token: O(cols) work, done on the calling thread (a decode has one token).
  for (int64_t t = 0; t < n_tokens; ++t) {
    const std::byte* row = act + static_cast<size_t>(t) * act_stride;
    // The quants of each activation block (32 or, Q8_K, 256), without the blocks' headers.
    const int64_t block = int64_t{1} << layout.block_shift;
    for (int64_t b = 0; b < cols / block; ++b) {
      std::memcpy(quants + t * cols + b * block,
                  row + static_cast<size_t>(b) * layout.block_bytes + layout.quants_offset,
                  static_cast<size_t>(block));
    }
    activation_group_sums(type, kQK32, act + static_cast<size_t>(t) * act_stride, blocks,
                          scale + t * blocks, sum + t * blocks);
  }
  GemvActivations out{quants, scale, sum, cols, blocks};
  if (interleaved) {
    auto* runs = reinterpret_cast<int8_t*>(
        sum + align64(static_cast<size_t>(n_tokens * blocks) * sizeof(float)) / sizeof(float));
    out.runs = runs;
    out.run_stride = static_cast<int64_t>(interleaved_activation_bytes(blocks));
    for (int64_t t = 0; t < n_tokens; ++t) {
      transpose_activation_runs(quants + t * cols, runs + t * out.run_stride, blocks,
                                table.packed_partial_runs);
    }
  }
  return out;
}

GemvFn gemv_kernel(const KernelTable& table, const WeightView& w) noexcept {
  const auto id = static_cast<size_t>(w.type);
  if (id >= static_cast<size_t>(kTypeSlots)) return nullptr;
  return w.layout == RowLayout::interleaved ? table.gemv_interleaved[id] : table.gemv[id];
}

void gemv_rows(const KernelTable& table, const WeightView& w, const GemvActivations& act,
               int64_t n_tokens, float* y, int64_t y_stride, int64_t r0, int64_t r1) {
  if (r0 >= r1) return;
  gemv_kernel(table, w)(
      static_cast<const std::byte*>(w.data) + static_cast<size_t>(r0) * w.row_bytes, w.row_bytes,
      r1 - r0, act, n_tokens, y + r0, y_stride);
}

void gemv(ThreadPool& pool, const KernelTable& table, const WeightView& w, const std::byte* act,
          size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride, std::byte* extra) {
  RowShares shares;
  shares.reset(w.rows, w.row_bytes, pool.size());
  const GemvJob job{&table,
                    &w,
                    prepare_gemv_activations(table, w.type, w.cols, act, act_stride, n_tokens,
                                             extra, w.layout == RowLayout::interleaved),
                    n_tokens,
                    y,
                    y_stride,
                    &shares};
  const GemvJob* j = &job;  // one pointer: the std::function stores it without allocating
  pool.run([j](int thread, int) {
    j->shares->for_each(thread, [j](int64_t r0, int64_t r1) {
      gemv_rows(*j->table, *j->w, j->act, j->n_tokens, j->y, j->y_stride, r0, r1);
    });
  });
}

}  // namespace inference::kernels::detail
