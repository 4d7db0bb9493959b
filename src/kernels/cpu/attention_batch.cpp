// kernels/cpu/attention_batch.cpp — picks the batched attention kernel of the active SIMD level.
#include "kernels/cpu/attention_batch.hpp"

#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

detail::AttendTokensFn active_kernel() noexcept {
  return detail::active_kernel_table().attend_tokens;
}

size_t round16(int64_t n) {
  return static_cast<size_t>((n + 15) / 16 * 16);
}

}  // namespace

bool attend_tokens_available(int32_t head_dim) noexcept {
  return active_kernel() != nullptr && head_dim > 0 && head_dim % 16 == 0 && head_dim <= 512;
}

size_t attend_tokens_scratch_floats(int32_t head_dim, int32_t n_cells) noexcept {
  // Keys [head_dim][cells] + values [cells][head_dim] + positions + scores and rounded query
  // of up to 4 heads at once.
  const size_t cells = round16(n_cells);
  return 2 * static_cast<size_t>(head_dim) * cells + 5 * cells + 4 * round16(head_dim);
}

void attend_tokens(const AttentionQueries& queries, int32_t head_dim, const KvHeadView& kv,
                   int32_t window, float scale, float* scratch) noexcept {
  active_kernel()(queries, head_dim, kv, window, scale, scratch);
}

}  // namespace inference::kernels
