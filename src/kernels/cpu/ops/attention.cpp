// kernels/cpu/ops/attention.cpp — see attention.hpp.
#include "kernels/cpu/ops/attention.hpp"

#include <cmath>
#include <limits>

#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/ops/softmax.hpp"

namespace inference::kernels {
namespace {

bool visible(int32_t cell_pos, const AttentionMask& mask) noexcept {
  if (cell_pos < 0 || cell_pos > mask.pos) return false;
  return mask.window <= 0 || mask.pos - cell_pos < mask.window;
}

float round_f16(float x) noexcept {
  return fp16_to_fp32(fp32_to_fp16(x));
}

}  // namespace

void attend_head(const float* q, int32_t head_dim, const KvHeadView& kv, const AttentionMask& mask,
                 float scale, float* scores, float* q_rounded, float* out) noexcept {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const float* query = q;
  if (kv.f16) {
    for (int32_t d = 0; d < head_dim; ++d) q_rounded[d] = round_f16(q[d]);
    query = q_rounded;
  }
  // scores[i] belongs to cell (first_cell + i) mod n_cells.
  auto cell_of = [&kv](int32_t i) {
    const int32_t c = kv.first_cell + i;
    return c >= kv.n_cells ? c - kv.n_cells : c;
  };
  // Scores: scale * q.k for visible cells, -inf for the rest.
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    const int32_t c = cell_of(i);
    if (!visible(kv.cell_pos[c], mask)) {
      scores[i] = neg_inf;
      continue;
    }
    float dot = 0.0f;
    if (kv.f16) {
      const uint16_t* k = static_cast<const uint16_t*>(kv.k) + c * kv.cell_stride;
      for (int32_t d = 0; d < head_dim; ++d) dot += query[d] * fp16_to_fp32(k[d]);
    } else {
      const float* k = static_cast<const float*>(kv.k) + c * kv.cell_stride;
      for (int32_t d = 0; d < head_dim; ++d) dot += query[d] * k[d];
    }
    scores[i] = dot * scale;
  }
  softmax_row(scores, kv.n_cells);

  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int32_t i = 0; i < kv.n_cells; ++i) {
    if (scores[i] == 0.0f) continue;
    const int32_t c = cell_of(i);
    if (kv.f16) {
      const float p = round_f16(scores[i]);
      const uint16_t* v = static_cast<const uint16_t*>(kv.v) + c * kv.cell_stride;
      for (int32_t d = 0; d < head_dim; ++d) out[d] += p * fp16_to_fp32(v[d]);
    } else {
      const float p = scores[i];
      const float* v = static_cast<const float*>(kv.v) + c * kv.cell_stride;
      for (int32_t d = 0; d < head_dim; ++d) out[d] += p * v[d];
    }
  }
}

}  // namespace inference::kernels
