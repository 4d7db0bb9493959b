// perf/attention_profile.hpp — the attention of one decoded token at a given context depth, timed
// alone: the split decode kernel (kernels/cpu/attention_decode.hpp) over every layer's cache of
// `depth` + 1 positions, spread over the thread pool as the engine spreads it, and the merge. The
// cache is synthetic (random values stored in the requested element type) with the model's
// shapes, every layer full-length, and far larger than the caches at depth 4096 of the small
// models, so the figure is the streaming cost of the KV read: bytes read / time is its GB/s.
// With the depth-0 profile of the other operations (which do not depend on the depth) it gives
// the per-operation profile of decode at depth.
#pragma once

#include <cstdint>

#include "formats/gguf.hpp"
#include "formats/memory_estimate.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::perf {

struct AttentionProfile {
  int depth = 0;
  int reps = 0;
  double us_per_token = 0;       ///< mean over reps, all layers
  double us_per_token_min = 0;   ///< fastest rep
  uint64_t bytes_per_token = 0;  ///< keys and values read (all layers, depth + 1 positions)
  int64_t work_items_per_layer = 0;
};

/// Throws Error(invalid_model) if the file lacks the attention shapes, Error(unsupported) for a
/// Q8_0 cache with a head size not a multiple of 32 or a head size the kernel does not take.
AttentionProfile profile_attention(const formats::GgufFile& file, kernels::ThreadPool& pool,
                                   int depth, formats::KvCacheType type, int reps);

}  // namespace inference::perf
