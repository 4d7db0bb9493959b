// kernels/cpu/ops/attention.cpp — see attention.hpp. The q.k products go through the matmul
// dot kernels; the softmax, the value sum and the F16 rounding of the query through the ops
// table (ops_table.hpp), so every part runs at the active SIMD level.
#include "kernels/cpu/ops/attention.hpp"

#include <array>
#include <cstring>
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

// A Q8_0 cache: each row dequantised (scale * int8) and used in float, one cell at a time.
// Only the reference path: generation goes through attention_decode.hpp.
void attend_head_q8_0(const float* q, int32_t head_dim, const KvHeadView& kv,
                      const AttentionMask& mask, float scale, float* scores, float* row,
                      float* out) noexcept {
  const size_t cell_bytes = kv_cell_bytes(kv);
  auto dequantize = [&](const void* base, int32_t c) {
    const auto* blocks = static_cast<const std::byte*>(base) + static_cast<size_t>(c) * cell_bytes;
    for (int32_t b = 0; b < head_dim / 32; ++b) {
      const std::byte* block = blocks + static_cast<size_t>(b) * 34;
      uint16_t d16;
      std::memcpy(&d16, block, 2);
      const float d = fp16_to_fp32(d16);
      const auto* qs = reinterpret_cast<const int8_t*>(block + 2);
      for (int32_t i = 0; i < 32; ++i) row[b * 32 + i] = d * static_cast<float>(qs[i]);
    }
  };
  auto cell_of = [&](int32_t i) {
    return kv.first_cell + i >= kv.n_cells ? kv.first_cell + i - kv.n_cells : kv.first_cell + i;
  };
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    const int32_t c = cell_of(i);
    if (!visible(kv.cell_pos[c], mask)) {
      scores[i] = -std::numeric_limits<float>::infinity();
      continue;
    }
    dequantize(kv.k, c);
    float dot = 0.0f;
    for (int32_t d = 0; d < head_dim; ++d) dot += q[d] * row[d];
    scores[i] = dot * scale;
  }
  detail::softmax_row_scalar(scores, kv.n_cells);
  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    if (scores[i] == 0.0f) continue;
    dequantize(kv.v, cell_of(i));
    for (int32_t d = 0; d < head_dim; ++d) out[d] += scores[i] * row[d];
  }
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
  if (kv.q8_0) {
    attend_head_q8_0(q, head_dim, kv, mask, scale, scores, q_rounded, out);
    return;
  }
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
