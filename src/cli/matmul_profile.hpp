// cli/matmul_profile.hpp — the "matmul floor" of a model: the time the kernels' matmul() alone
// takes over every weight matrix of one forward pass, per tensor kind. The difference between a
// benchmark's ms/token and this floor is what attention, norms, RoPE, the sampler-free logits
// copy and synchronisation cost, so it tells where the next speed-up must come from.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cli/model_traffic.hpp"
#include "cli/random_weights.hpp"
#include "formats/gguf.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::cli {

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
/// needs logits for the last position alone.
inline MatmulProfile profile_matmuls(const formats::GgufFile& file, kernels::ThreadPool& pool,
                                     int64_t n_tokens, int reps) {
  struct Job {
    kernels::WeightView w;
    std::string kind;
    int64_t tokens;
  };
  const bool tied = file.find_tensor("output.weight") == nullptr;
  MatmulProfile profile;
  profile.n_tokens = n_tokens;
  profile.reps = reps;
  std::vector<Job> jobs;
  int64_t max_cols = 0, max_rows = 0;
  size_t scratch_bytes = 0;
  for (const auto& t : file.tensors()) {
    if (t.ne.size() != 2) continue;
    const bool embedding = t.name == "token_embd.weight";
    if (embedding && !tied) continue;  // a row lookup, not a matmul
    const bool output = embedding || t.name == "output.weight";
    if (!kernels::matmul_supported(t.type)) {
      profile.skipped.push_back(t.name);
      continue;
    }
    Job job{{t.type, t.data.data(), t.ne[1], t.ne[0], static_cast<size_t>(t.n_bytes / t.ne[1])},
            output ? (embedding ? "output (tied token_embd)" : "output") : tensor_kind(t.name),
            output ? 1 : n_tokens};
    max_cols = std::max(max_cols, job.w.cols);
    max_rows = std::max(max_rows, job.w.rows * job.tokens);
    scratch_bytes =
        std::max(scratch_bytes, kernels::activation_scratch_bytes(t.type, t.ne[0], job.tokens));
    jobs.push_back(std::move(job));
  }
  std::vector<float> x(static_cast<size_t>(max_cols * n_tokens));
  RowRng rng(7, 0, 0);
  fill_normal(x, rng, 1.0f);
  std::vector<float> y(static_cast<size_t>(max_rows));
  std::vector<std::byte> scratch(scratch_bytes);
  using Clock = std::chrono::steady_clock;
  for (int r = -1; r < reps; ++r) {  // r = -1: warm-up (page-in, caches)
    for (const auto& job : jobs) {
      const auto start = Clock::now();
      kernels::matmul(pool, job.w, x.data(), job.w.cols, job.tokens, y.data(), job.w.rows,
                      scratch.data());
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (r < 0) continue;
      auto& k = profile.by_kind[job.kind];
      k.ms_per_pass += ms / reps;
      if (r == 0) {
        k.bytes += static_cast<uint64_t>(job.w.rows) * job.w.row_bytes;
        k.tensors += 1;
      }
    }
  }
  for (const auto& [kind, k] : profile.by_kind) {
    profile.total_ms_per_pass += k.ms_per_pass;
    profile.total_bytes += k.bytes;
  }
  return profile;
}

}  // namespace inference::cli
