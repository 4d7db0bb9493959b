// train/fast_attention.hpp — causal (optionally sliding-window) grouped-query attention of a
// whole training sequence, forward and backward, in float. Each head is one work item, run whole
// on one thread through register-blocked products (dense_block.hpp): with the heads spread over
// the pool there is one hand-off per layer and direction, not one per product. Queries are taken
// in blocks of 64 so that the products skip the keys after the block (the causal half of the
// score matrix is never computed). The key and value gradients of the heads sharing a KV head
// are summed in head order, so results do not depend on the thread count. Layouts as in the
// trainer: q/att n × (H·D), k/v n × (HKV·D), probs H × n × n.
#pragma once

#include <cstdint>

#include "kernels/cpu/thread_pool.hpp"

namespace inference::train {

struct AttentionShape {
  int64_t n = 0;
  int32_t heads = 0, kv_heads = 0, head_dim = 0;
  int32_t window = 0;  ///< 0: full causal; else keys within the last `window` positions
  float scale = 1.0f;  ///< applied to q·k before the softmax
};

/// probs (zeroed outside the mask) and att = probs · v, per head.
void attention_forward(kernels::ThreadPool& pool, const AttentionShape& s, const float* q,
                       const float* k, const float* v, float* probs, float* att);

/// dq, dk, dv (overwritten) from datt and the forward's probs.
void attention_backward(kernels::ThreadPool& pool, const AttentionShape& s, const float* q,
                        const float* k, const float* v, const float* probs, const float* datt,
                        float* dq, float* dk, float* dv);

}  // namespace inference::train
