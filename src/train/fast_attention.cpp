#include "train/fast_attention.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "train/fast_products.hpp"

namespace inference::train {

namespace {

constexpr int64_t kBlock = 64;

size_t usz(int64_t n) {
  return static_cast<size_t>(n);
}

int64_t first_key(const AttentionShape& s, int64_t t) {
  return s.window > 0 ? std::max<int64_t>(0, t - s.window + 1) : 0;
}

}  // namespace

void attention_forward(kernels::ThreadPool& pool, const AttentionShape& s, const float* q,
                       const float* k, const float* v, float* probs, float* att) {
  const int64_t n = s.n, D = s.head_dim, QD = int64_t{s.heads} * D, KVD = int64_t{s.kv_heads} * D;
  const int32_t group = s.heads / s.kv_heads;
  std::vector<float> vt(usz(D * n));  // v of one KV head, transposed: D × n
  for (int32_t h = 0; h < s.heads; ++h) {
    const int64_t g = h / group;
    if (h % group == 0) transpose(v + g * D, n, D, KVD, vt.data(), n);
    float* p = probs + usz(int64_t{h} * n * n);
    // Scores of each query block against the keys up to its last query.
    for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
      const int64_t t1 = std::min(n, t0 + kBlock);
      dense_nt(pool, q + t0 * QD + h * D, QD, t1 - t0, k + g * D, KVD, t1, D, p + t0 * n, n);
    }
    pool.parallel_for(n, [&](int64_t r0, int64_t r1) {
      for (int64_t t = r0; t < r1; ++t) {
        float* row = p + t * n;
        const int64_t first = first_key(s, t);
        float max = -INFINITY;
        for (int64_t j = first; j <= t; ++j) max = std::max(max, row[j] * s.scale);
        float sum = 0.0f;
        for (int64_t j = first; j <= t; ++j) sum += (row[j] = std::exp(row[j] * s.scale - max));
        const float inv = 1.0f / sum;
        std::fill(row, row + first, 0.0f);
        for (int64_t j = first; j <= t; ++j) row[j] *= inv;
        std::fill(row + t + 1, row + n, 0.0f);
      }
    });
    for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
      const int64_t t1 = std::min(n, t0 + kBlock);
      dense_nt(pool, p + t0 * n, n, t1 - t0, vt.data(), n, D, t1, att + t0 * QD + h * D, QD);
    }
  }
}

void attention_backward(kernels::ThreadPool& pool, const AttentionShape& s, const float* q,
                        const float* k, const float* v, const float* probs, const float* datt,
                        float* dq, float* dk, float* dv) {
  const int64_t n = s.n, D = s.head_dim, QD = int64_t{s.heads} * D, KVD = int64_t{s.kv_heads} * D;
  const int32_t group = s.heads / s.kv_heads;
  std::vector<float> ds(usz(n * n)), dst(usz(n * n)), pt(usz(n * n)), kt(usz(D * n)),
      qt(usz(D * n)), dot(usz(D * n)), part(usz(n * D));
  std::fill_n(dk, usz(n * KVD), 0.0f);
  std::fill_n(dv, usz(n * KVD), 0.0f);
  for (int32_t h = 0; h < s.heads; ++h) {
    const int64_t g = h / group;
    const float* p = probs + usz(int64_t{h} * n * n);
    if (h % group == 0) transpose(k + g * D, n, D, KVD, kt.data(), n);
    transpose(q + h * D, n, D, QD, qt.data(), n);
    transpose(datt + h * D, n, D, QD, dot.data(), n);
    // dP = dO · Vᵀ on the causal blocks, then dS = P ⊙ (dP − Σ P·dP) · scale.
    for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
      const int64_t t1 = std::min(n, t0 + kBlock);
      dense_nt(pool, datt + t0 * QD + h * D, QD, t1 - t0, v + g * D, KVD, t1, D, ds.data() + t0 * n,
               n);
    }
    pool.parallel_for(n, [&](int64_t r0, int64_t r1) {
      for (int64_t t = r0; t < r1; ++t) {
        const float* pr = p + t * n;
        float* dr = ds.data() + t * n;
        const int64_t first = first_key(s, t);
        float dot_sum = 0.0f;
        for (int64_t j = first; j <= t; ++j) dot_sum += pr[j] * dr[j];
        std::fill(dr, dr + first, 0.0f);
        for (int64_t j = first; j <= t; ++j) dr[j] = pr[j] * (dr[j] - dot_sum) * s.scale;
        std::fill(dr + t + 1, dr + n, 0.0f);
      }
    });
    // dQ = dS · K (rows t need keys ≤ t).
    for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
      const int64_t t1 = std::min(n, t0 + kBlock);
      dense_nt(pool, ds.data() + t0 * n, n, t1 - t0, kt.data(), n, D, t1, dq + t0 * QD + h * D, QD);
    }
    // dK += dSᵀ · Q and dV += Pᵀ · dO (key rows s need queries ≥ s).
    transpose(ds.data(), n, n, n, dst.data(), n);
    transpose(p, n, n, n, pt.data(), n);
    for (int64_t s0 = 0; s0 < n; s0 += kBlock) {
      const int64_t s1 = std::min(n, s0 + kBlock), rows = s1 - s0;
      for (int pass = 0; pass < 2; ++pass) {
        const float* x = (pass == 0 ? dst.data() : pt.data()) + s0 * n + s0;
        const float* w = (pass == 0 ? qt.data() : dot.data()) + s0;
        dense_nt(pool, x, n, rows, w, n, D, n - s0, part.data(), D);
        float* acc = (pass == 0 ? dk : dv) + s0 * KVD + g * D;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < D; ++i) acc[r * KVD + i] += part[usz(r * D + i)];
      }
    }
  }
}

}  // namespace inference::train
