// perf/matmul_profile.cpp — see matmul_profile.hpp.
#include "perf/matmul_profile.hpp"

#include <algorithm>
#include <chrono>

#include "kernels/cpu/matmul.hpp"
#include "perf/model_traffic.hpp"
#include "perf/resident_views.hpp"
#include "testing/random_weights.hpp"

namespace inference::perf {

MatmulProfile profile_matmuls(const formats::GgufFile& file, const ResidentTensors& tensors,
                              kernels::ThreadPool& pool, int64_t n_tokens, int reps) {
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
    Job job{tensors.view(t),
            output ? (embedding ? "output (tied token_embd)" : "output") : tensor_kind(t.name),
            output ? 1 : n_tokens};
    max_cols = std::max(max_cols, job.w.cols);
    max_rows = std::max(max_rows, job.w.rows * job.tokens);
    scratch_bytes =
        std::max(scratch_bytes, kernels::activation_scratch_bytes(t.type, t.ne[0], job.tokens));
    jobs.push_back(std::move(job));
  }
  std::vector<float> x(static_cast<size_t>(max_cols * n_tokens));
  testing::RowRng rng(7, 0, 0);
  testing::fill_normal(x, rng, 1.0f);
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

}  // namespace inference::perf
