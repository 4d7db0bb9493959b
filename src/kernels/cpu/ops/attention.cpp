// kernels/cpu/ops/attention.cpp — see attention.hpp. The q.k products go through the matmul
// dot kernels; the softmax, the value sum and the F16 rounding of the query through the ops
// table (ops_table.hpp), so every part runs at the active SIMD level.
#include "kernels/cpu/ops/attention.hpp"

#include <array>
#include <limits>
#include <memory>

#include "formats/ggml_types.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/ops/ops_table.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

bool visible(int32_t cell_pos, const AttentionMask& mask) noexcept {
  if (cell_pos < 0 || cell_pos > mask.pos) return false;
  return mask.window <= 0 || mask.pos - cell_pos < mask.window;
}

}  // namespace

// F16 -> float for every F16 value: the scalar value loop converts one element per
// multiply-add, and a table load is much cheaper than the bit manipulation.
const float* detail::fp16_values() noexcept {
  static const std::unique_ptr<std::array<float, 65536>> table = [] {
    auto t = std::make_unique<std::array<float, 65536>>();
    for (uint32_t i = 0; i < 65536; ++i) (*t)[i] = fp16_to_fp32(static_cast<uint16_t>(i));
    return t;
  }();
  return table->data();
}

void detail::round_to_f16_scalar(const float* x, uint16_t* out, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

void detail::attention_values_scalar(const float* weights, const KvHeadView& kv, int32_t head_dim,
                                     float* out) noexcept {
  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  const float* half = kv.f16 ? fp16_values() : nullptr;
  const size_t elem = kv.f16 ? 2 : 4;
  const auto* v_base = static_cast<const std::byte*>(kv.v);
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    if (weights[i] == 0.0f) continue;
    const int32_t c =
        kv.first_cell + i >= kv.n_cells ? kv.first_cell + i - kv.n_cells : kv.first_cell + i;
    const std::byte* row = v_base + static_cast<size_t>(c * kv.cell_stride) * elem;
    if (kv.f16) {
      // The softmax weights are rounded to F16 too (the reference converts them for V).
      const float p = half[fp32_to_fp16(weights[i])];
      const auto* v = reinterpret_cast<const uint16_t*>(row);
      for (int32_t d = 0; d < head_dim; ++d) out[d] += p * half[v[d]];
    } else {
      const float p = weights[i];
      const auto* v = reinterpret_cast<const float*>(row);
      for (int32_t d = 0; d < head_dim; ++d) out[d] += p * v[d];
    }
  }
}

void attend_head(const float* q, int32_t head_dim, const KvHeadView& kv, const AttentionMask& mask,
                 float scale, float* scores, float* q_rounded, float* out) noexcept {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const detail::OpsTable& ops = detail::active_ops_table();
  // q.k uses the matmul kernels' F32 / F16 dot products (SIMD where the CPU has it). With an
  // F16 cache the query is rounded to F16 first, as the reference's F16 matmul does; the F16
  // bits go into the q_rounded scratch (head_dim floats hold head_dim halves).
  const detail::KernelTable& table = detail::active_kernel_table();
  const auto dot_fn =
      table.dot[static_cast<int>(kv.f16 ? formats::GgmlType::F16 : formats::GgmlType::F32)];
  const void* query = q;
  if (kv.f16) {
    auto* q16 = reinterpret_cast<uint16_t*>(q_rounded);
    ops.round_to_f16(q, q16, head_dim);
    query = q16;
  }
  const size_t elem = kv.f16 ? 2 : 4;
  const auto* k_base = static_cast<const std::byte*>(kv.k);
  // scores[i] belongs to cell (first_cell + i) mod n_cells. Scores: scale * q.k for visible
  // cells, -inf for the rest.
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    const int32_t c =
        kv.first_cell + i >= kv.n_cells ? kv.first_cell + i - kv.n_cells : kv.first_cell + i;
    if (!visible(kv.cell_pos[c], mask)) {
      scores[i] = neg_inf;
      continue;
    }
    scores[i] =
        dot_fn(head_dim, k_base + static_cast<size_t>(c * kv.cell_stride) * elem, query) * scale;
  }
  ops.softmax_row(scores, kv.n_cells);
  ops.attention_values(scores, kv, head_dim, out);
}

}  // namespace inference::kernels
