// perf/decode_profile.hpp — where one decoded token's time goes, per operation class, at depth 0
// (one cached position): each weight type's matmuls (from memory, as in a real pass over every
// weight, and "hot": one tensor of the type repeated, so it is served from cache where it fits),
// attention, norms with residual adds, RoPE, the gated activation, greedy sampling, and the
// thread pool's hand-off cost times the hand-offs a token makes. Each class is timed alone with
// the model's real shapes, so the sum is a floor; the engine's ms/token minus it is what the
// classes cost together that they do not alone (cache interference, waiting on a slower
// thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/gguf.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "perf/resident_views.hpp"

namespace inference::perf {

struct DecodeOp {
  std::string name;              ///< "matmul Q4_K", "attention", "rms_norm + residual", …
  double us_per_token = 0;       ///< microseconds per decoded token
  uint64_t bytes_per_token = 0;  ///< bytes the op class must read per token (weights, KV)
  int64_t calls_per_token = 0;
  /// matmul classes: GB/s of one tensor of the type multiplied `hot_repeats` times in a row
  /// (hot_tensor_bytes each), i.e. from cache if it fits; 0 for other classes.
  double hot_gb_per_second = 0;
  uint64_t hot_tensor_bytes = 0;
};

struct DecodeProfile {
  int reps = 0;
  std::vector<DecodeOp> ops;
  double total_us_per_token = 0;  ///< sum of the classes
  double pool_run_us = 0;         ///< one empty ThreadPool::run (wake every thread, wait all)
  int64_t pool_runs_per_token = 0;
};

/// Times every class `reps` times (after a warm-up) on `pool`. Needs a decoder-style GGUF
/// (blk.N.attn_q/… tensors and the llama-style metadata); throws Error(invalid_model) if the
/// shapes it needs are missing.
/// The weights are `tensors`' views of `file`'s.
DecodeProfile profile_decode(const formats::GgufFile& file, const ResidentTensors& tensors,
                             kernels::ThreadPool& pool, int reps);

}  // namespace inference::perf
