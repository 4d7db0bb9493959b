#include "train/fast_attention.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "train/dense_block.hpp"
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

// A worker's buffers, kept between calls (each pool thread has its own).
struct HeadScratch {
  std::vector<float> kt, vt, ds;
  float* sized(std::vector<float>& v, int64_t n) {
    if (v.size() < usz(n)) v.resize(usz(n));
    return v.data();
  }
};

// Zeroes head h's D columns of an n × (H·D) matrix.
void zero_head(float* x, int64_t n, int64_t stride, int64_t h, int64_t D) {
  for (int64_t i = 0; i < n; ++i) std::fill_n(x + i * stride + h * D, D, 0.0f);
}

HeadScratch& head_scratch() {
  thread_local HeadScratch scratch;
  return scratch;
}

}  // namespace

void attention_forward(kernels::ThreadPool& pool, const AttentionShape& s, const float* q,
                       const float* k, const float* v, float* probs, float* att) {
  const int64_t n = s.n, D = s.head_dim, QD = int64_t{s.heads} * D, KVD = int64_t{s.kv_heads} * D;
  const int32_t group = s.heads / s.kv_heads;
  // One head per work item, run whole on one thread: per query block, the scores against the
  // keys the block can see, the softmax of each row, and the weighted sum of the values.
  pool.parallel_for(s.heads, [&](int64_t h0, int64_t h1) {
    HeadScratch& scratch = head_scratch();
    float* kt = scratch.sized(scratch.kt, D * n);  // the head's keys transposed: D × n
    for (int64_t h = h0; h < h1; ++h) {
      const int64_t g = h / group;
      transpose(k + g * D, n, D, KVD, kt, n);
      float* p = probs + usz(h * n * n);
      std::fill_n(p, usz(n * n), 0.0f);
      zero_head(att, n, QD, h, D);
      for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
        const int64_t t1 = std::min(n, t0 + kBlock), key0 = first_key(s, t0);
        block_nn_acc(t1 - t0, t1 - key0, D, q + t0 * QD + h * D, QD, kt + key0, n,
                     p + t0 * n + key0, n);
        for (int64_t t = t0; t < t1; ++t) {
          float* row = p + t * n;
          const int64_t first = first_key(s, t);
          float max = -INFINITY;
          for (int64_t j = first; j <= t; ++j) max = std::max(max, row[j] * s.scale);
          float sum = 0.0f;
          for (int64_t j = first; j <= t; ++j) sum += (row[j] = std::exp(row[j] * s.scale - max));
          const float inv = 1.0f / sum;
          std::fill(row + key0, row + first, 0.0f);
          for (int64_t j = first; j <= t; ++j) row[j] *= inv;
          std::fill(row + t + 1, row + t1, 0.0f);
        }
        block_nn_acc(t1 - t0, D, t1 - key0, p + t0 * n + key0, n, v + key0 * KVD + g * D, KVD,
                     att + t0 * QD + h * D, QD);
      }
    }
  });
}

void attention_backward(kernels::ThreadPool& pool, const AttentionShape& s, const float* q,
                        const float* k, const float* v, const float* probs, const float* datt,
                        float* dq, float* dk, float* dv) {
  const int64_t n = s.n, D = s.head_dim, QD = int64_t{s.heads} * D, KVD = int64_t{s.kv_heads} * D;
  const int32_t group = s.heads / s.kv_heads;
  // Each head's key and value gradients go to its own slice first and are summed into the shared
  // KV head afterwards, in head order (the same sum whatever thread ran which head).
  // Kept between calls by the calling thread (named through references: inside the workers'
  // lambda a thread_local name would mean the worker's own instance).
  thread_local std::vector<float> dk_kept, dv_kept;
  std::vector<float>& dk_heads = dk_kept;
  std::vector<float>& dv_heads = dv_kept;
  dk_heads.assign(usz(int64_t{s.heads} * n * D), 0.0f);
  dv_heads.assign(usz(int64_t{s.heads} * n * D), 0.0f);
  pool.parallel_for(s.heads, [&](int64_t h0, int64_t h1) {
    HeadScratch& scratch = head_scratch();
    float* vt = scratch.sized(scratch.vt, D * n);
    float* ds = scratch.sized(scratch.ds, n * n);
    for (int64_t h = h0; h < h1; ++h) {
      const int64_t g = h / group;
      const float* p = probs + usz(h * n * n);
      transpose(v + g * D, n, D, KVD, vt, n);
      std::fill_n(ds, usz(n * n), 0.0f);
      zero_head(dq, n, QD, h, D);
      for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
        const int64_t t1 = std::min(n, t0 + kBlock), key0 = first_key(s, t0);
        // dP = dO · Vᵀ on the visible keys, then dS = P ⊙ (dP − Σ P·dP) · scale.
        block_nn_acc(t1 - t0, t1 - key0, D, datt + t0 * QD + h * D, QD, vt + key0, n,
                     ds + t0 * n + key0, n);
        for (int64_t t = t0; t < t1; ++t) {
          const float* pr = p + t * n;
          float* dr = ds + t * n;
          const int64_t first = first_key(s, t);
          float dot_sum = 0.0f;
          for (int64_t j = first; j <= t; ++j) dot_sum += pr[j] * dr[j];
          std::fill(dr + key0, dr + first, 0.0f);
          for (int64_t j = first; j <= t; ++j) dr[j] = pr[j] * (dr[j] - dot_sum) * s.scale;
          std::fill(dr + t + 1, dr + t1, 0.0f);
        }
        // dQ = dS · K.
        block_nn_acc(t1 - t0, D, t1 - key0, ds + t0 * n + key0, n, k + key0 * KVD + g * D, KVD,
                     dq + t0 * QD + h * D, QD);
      }
      // dK = dSᵀ · Q and dV = Pᵀ · dO: key rows [s0, s1) take the queries from s0 on (up to
      // the last one whose window still reaches s1 − 1).
      float* dkh = dk_heads.data() + usz(h * n * D);
      float* dvh = dv_heads.data() + usz(h * n * D);
      for (int64_t s0 = 0; s0 < n; s0 += kBlock) {
        const int64_t s1 = std::min(n, s0 + kBlock);
        const int64_t last = s.window > 0 ? std::min(n, s1 - 1 + s.window) : n;
        block_tn_acc(s1 - s0, D, last - s0, ds + s0 * n + s0, n, q + s0 * QD + h * D, QD,
                     dkh + s0 * D, D);
        block_tn_acc(s1 - s0, D, last - s0, p + s0 * n + s0, n, datt + s0 * QD + h * D, QD,
                     dvh + s0 * D, D);
      }
    }
  });
  pool.parallel_for(n, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t g = 0; g < s.kv_heads; ++g) {
        float* dkr = dk + r * KVD + g * D;
        float* dvr = dv + r * KVD + g * D;
        std::fill_n(dkr, D, 0.0f);
        std::fill_n(dvr, D, 0.0f);
        for (int64_t h = g * group; h < (g + 1) * group; ++h) {
          const float* dkh = dk_heads.data() + usz((h * n + r) * D);
          const float* dvh = dv_heads.data() + usz((h * n + r) * D);
          for (int64_t i = 0; i < D; ++i) {
            dkr[i] += dkh[i];
            dvr[i] += dvh[i];
          }
        }
      }
    }
  });
}

}  // namespace inference::train
