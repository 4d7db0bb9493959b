// perf/matmul_profile.hpp — the "matmul floor" of a model: the time the kernels' matmul() alone
// takes over every weight matrix of one forward pass, per tensor kind. The difference between a
// benchmark's ms/token and this floor is what attention, norms, RoPE, the sampler-free logits
// copy and synchronisation cost, so it tells where the next speed-up must come from.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "formats/gguf.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "perf/resident_views.hpp"

namespace inference::perf {

struct KindTime {
  double ms_per_pass = 0;
  uint64_t bytes = 0;
  int64_t tensors = 0;
};

struct MatmulProfile {
  int64_t n_tokens = 0;  ///< tokens per pass (1 = decode)
  int reps = 0;
  double total_ms_per_pass = 0;
  uint64_t total_bytes = 0;
  std::map<std::string, KindTime> by_kind;
  std::vector<std::string> skipped;  ///< tensors of types matmul() does not support
};

/// Runs every matmul of one forward pass over `n_tokens` tokens `reps` times (after one warm-up
/// pass) and averages. The output matrix is applied to one token only, as prompt processing
/// needs logits for the last position alone. The weights are `tensors`' views of `file`'s.
MatmulProfile profile_matmuls(const formats::GgufFile& file, const ResidentTensors& tensors,
                              kernels::ThreadPool& pool, int64_t n_tokens, int reps);

}  // namespace inference::perf
