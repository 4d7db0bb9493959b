// kernels/cpu/attention_decode.cpp — see attention_decode.hpp: the scalar reference, the
// dispatch to the SIMD level of the active kernel table, the merge of the partials and the Q8_0
// row quantiser of the cache.
#include "kernels/cpu/attention_decode.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/ops/fast_exp.hpp"
#include "kernels/cpu/ops/ops_table.hpp"

namespace inference::kernels {
namespace {

// head_dim floats of cell c of `base` (keys or values).
void load_row(const KvHeadView& kv, const void* base, int32_t c, int32_t hd, float* out) {
  const auto* row =
      static_cast<const std::byte*>(base) + static_cast<size_t>(c) * kv_cell_bytes(kv);
  if (kv.q8_0) {
    for (int32_t b = 0; b < hd / 32; ++b) {
      const std::byte* block = row + static_cast<size_t>(b) * 34;
      uint16_t d16;
      std::memcpy(&d16, block, 2);
      const float d = fp16_to_fp32(d16);
      const auto* qs = reinterpret_cast<const int8_t*>(block + 2);
      for (int32_t i = 0; i < 32; ++i) out[b * 32 + i] = d * static_cast<float>(qs[i]);
    }
  } else if (kv.f16) {
    const auto* h = reinterpret_cast<const uint16_t*>(row);
    for (int32_t i = 0; i < hd; ++i) out[i] = fp16_to_fp32(h[i]);
  } else {
    std::memcpy(out, row, static_cast<size_t>(hd) * sizeof(float));
  }
}

detail::AttendDecodeFn active_kernel() noexcept {
  const detail::OpsTable& ops = detail::active_ops_table();
#if defined(INFERENCE_KERNELS_X86)
  if (&ops == detail::avx512_ops_table()) return detail::attend_decode_block_avx512;
  if (&ops == detail::avx2_ops_table()) return detail::attend_decode_block_avx2;
#endif
  (void)ops;
  return detail::attend_decode_block_scalar;
}

}  // namespace

size_t attend_decode_scratch_floats(int32_t head_dim, int32_t n_heads) noexcept {
  // Scores of the block per head, the (rounded) queries, then the scalar kernel's converted
  // row or the SIMD kernels' per-cell dot vectors of one slab of heads, and room to align each
  // part to 64 bytes.
  const auto row = static_cast<size_t>(head_dim);
  return static_cast<size_t>(n_heads) * kDecodeBlockCells +
         static_cast<size_t>(n_heads) * static_cast<size_t>(head_dim) +
         (row > detail::kDecodeSlabDotFloats ? row : detail::kDecodeSlabDotFloats) + 64;
}

bool attend_decode_supported(int32_t head_dim, const KvHeadView& kv) noexcept {
  if (head_dim <= 0 || head_dim % 16 != 0 || head_dim > 512) return false;
  return !kv.q8_0 || head_dim % 32 == 0;
}

void attend_decode_block(const DecodeQueries& queries, int32_t head_dim, const KvHeadView& kv,
                         int32_t i0, int32_t i1, float* scratch,
                         const AttentionPartial& partial) noexcept {
  active_kernel()(queries, head_dim, kv, i0, i1, scratch, partial);
}

void detail::attend_decode_block_scalar(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv,
                                        int32_t i0, int32_t i1, float* scratch,
                                        const AttentionPartial& partial) {
  const int32_t n = i1 - i0, heads = qs.n_heads;
  float* scores = scratch;                                             // [heads][n]
  float* q = scores + static_cast<size_t>(heads) * kDecodeBlockCells;  // [heads][hd]
  float* row = q + static_cast<size_t>(heads) * hd;                    // [hd]
  for (int32_t i = 0; i < heads * hd; ++i) {
    q[i] = kv.f16 ? fp16_to_fp32(fp32_to_fp16(qs.q[i])) : qs.q[i];
  }
  const int32_t lowest = qs.window > 0 ? qs.pos - qs.window + 1 : 0;
  auto cell_of = [&](int32_t j) {
    const int32_t i = i0 + j;
    return kv.first_cell + i >= kv.n_cells ? kv.first_cell + i - kv.n_cells : kv.first_cell + i;
  };
  auto visible = [&](int32_t c) {
    const int32_t p = kv.cell_pos[c];
    return p >= 0 && p >= lowest && p <= qs.pos;
  };
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int32_t j = 0; j < n; ++j) {
    const int32_t c = cell_of(j);
    const bool seen = visible(c);
    if (seen) load_row(kv, kv.k, c, hd, row);
    for (int32_t h = 0; h < heads; ++h) {
      float dot = 0.0f;
      for (int32_t d = 0; seen && d < hd; ++d) dot += q[h * hd + d] * row[d];
      scores[h * n + j] = seen ? dot * qs.scale : neg_inf;
    }
  }
  for (int32_t h = 0; h < heads; ++h) {
    float* s = scores + static_cast<size_t>(h) * n;
    float m = neg_inf;
    for (int32_t j = 0; j < n; ++j) m = s[j] > m ? s[j] : m;
    float sum = 0.0f;
    for (int32_t j = 0; j < n; ++j) {
      s[j] = s[j] == neg_inf ? 0.0f : detail::exp_approx(s[j] - m);
      sum += s[j];
    }
    partial.max[h] = m;
    partial.sum[h] = sum;
    for (int32_t d = 0; d < hd; ++d) partial.out[h * hd + d] = 0.0f;
  }
  for (int32_t j = 0; j < n; ++j) {
    const int32_t c = cell_of(j);
    if (!visible(c)) continue;
    load_row(kv, kv.v, c, hd, row);
    for (int32_t h = 0; h < heads; ++h) {
      const float p = scores[h * n + j];
      for (int32_t d = 0; d < hd; ++d) partial.out[h * hd + d] += p * row[d];
    }
  }
}

void attend_decode_merge(const float* parts, int32_t n_blocks, int32_t n_heads, int32_t head_dim,
                         float* out) noexcept {
  const size_t part_floats = attention_partial_floats(head_dim, n_heads);
  auto part = [&](int32_t b) {
    return attention_partial_at(const_cast<float*>(parts) + b * part_floats, head_dim, n_heads);
  };
  for (int32_t h = 0; h < n_heads; ++h) {
    float* o = out + static_cast<size_t>(h) * head_dim;
    float m = -std::numeric_limits<float>::infinity();
    for (int32_t b = 0; b < n_blocks; ++b) m = std::fmax(m, part(b).max[h]);
    for (int32_t d = 0; d < head_dim; ++d) o[d] = 0.0f;
    if (m == -std::numeric_limits<float>::infinity()) continue;
    float total = 0.0f;
    for (int32_t b = 0; b < n_blocks; ++b) {
      const AttentionPartial p = part(b);
      const float mb = p.max[h];
      if (mb == -std::numeric_limits<float>::infinity()) continue;
      const float w = detail::exp_approx(mb - m);
      total += w * p.sum[h];
      const float* ob = p.out + static_cast<size_t>(h) * head_dim;
      for (int32_t d = 0; d < head_dim; ++d) o[d] += w * ob[d];
    }
    const float inv = 1.0f / total;
    for (int32_t d = 0; d < head_dim; ++d) o[d] *= inv;
  }
}

void quantize_row_q8_0_kv(const float* x, void* out, int64_t n) noexcept {
  auto* dst = static_cast<std::byte*>(out);
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + b * 32;
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    std::byte* block = dst + b * 34;
    const uint16_t d16 = fp32_to_fp16(d);
    std::memcpy(block, &d16, 2);
    auto* qs = reinterpret_cast<int8_t*>(block + 2);
    for (int i = 0; i < 32; ++i) qs[i] = static_cast<int8_t>(std::lround(xb[i] * id));
  }
}

}  // namespace inference::kernels
