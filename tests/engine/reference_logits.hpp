// tests/engine/reference_logits.hpp — comparing our logits rows with the reference's
// (testdata/models goldens): log-probabilities of the golden top-20, KL divergence, argmax.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/ops/softmax.hpp"

namespace inference::test {

/// The README's tolerance row for a weight type.
struct Tolerance {
  double logprob;  ///< max |Δ logprob| over the golden top-20
  double max_kl;   ///< max KL(golden || ours)
  double mean_kl;  ///< mean KL over all positions
  double margin;   ///< argmax must agree where the golden top-1 margin exceeds this
};

inline Tolerance tolerance_for(const std::string& ftype, const std::string& arch) {
  if (ftype == "F32")
    return arch == "gemma3" ? Tolerance{0.01, 6e-6, 8e-7, 0.01} : Tolerance{1e-3, 1e-6, 1e-7, 1e-3};
  if (ftype == "F16") return {0.05, 2e-4, 2e-5, 0.05};
  if (ftype == "BF16") return {0.2, 8e-4, 3e-4, 0.2};
  return {0.7, 0.02, 0.002, 0.7};  // quantised, activations rounded like the reference
}

/// A Q8_0 KV cache: each key and value is rounded to 8 bits with a scale per 32 elements
/// (relative error up to 1/254 of the block's largest magnitude), the same rounding the
/// reference applies to the activations of its Q8_0 matmuls in quantised files. So a float file
/// with a Q8_0 cache is held to the quantised tolerance above. A quantised file with a Q8_0 cache
/// has two such independent error sources (its weights' and the cache's); small independent
/// perturbations add in KL, so the mean KL bound is 2.5x the single-source one (measured worst:
/// 0.0044, gemma3-Q4_K_M; max |dlogprob| 0.57 and max KL 0.018 stay within the single-source
/// bounds).
inline Tolerance q8_0_cache_tolerance(const std::string& ftype) {
  Tolerance t = tolerance_for("Q8_0", "");
  if (ftype != "F32" && ftype != "F16" && ftype != "BF16") t.mean_kl *= 2.5;
  return t;
}

/// Worst values seen so far, with where they happened.
struct Worst {
  double logprob = 0, kl = 0, kl_sum = 0;
  int64_t kl_count = 0;
  std::string logprob_at, kl_at;
  std::vector<std::string> argmax_failures;

  void logprob_delta(double d, const std::string& at) {
    if (d > logprob) logprob = d, logprob_at = at;
  }
  void kl_value(double k, const std::string& at) {
    kl_sum += k;
    ++kl_count;
    if (k > kl) kl = k, kl_at = at;
  }
  double mean_kl() const { return kl_count ? kl_sum / static_cast<double>(kl_count) : 0.0; }
};

inline int32_t argmax(std::span<const float> row) {
  int32_t best = 0;
  for (size_t i = 1; i < row.size(); ++i) {
    if (row[i] > row[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  }
  return best;
}

inline std::vector<double> log_softmax(std::span<const float> row) {
  double max = row[0];
  for (float x : row) max = std::max(max, static_cast<double>(x));
  double sum = 0;
  for (float x : row) sum += std::exp(static_cast<double>(x) - max);
  const double log_sum = max + std::log(sum);
  std::vector<double> out(row.size());
  for (size_t i = 0; i < row.size(); ++i) out[i] = static_cast<double>(row[i]) - log_sum;
  return out;
}

/// KL(golden || ours) over the golden's top entries plus one bucket for the rest of the
/// vocabulary: a lower bound of the full KL that needs only the top-20.
inline double bucket_kl(const std::vector<std::pair<int32_t, double>>& top,
                        const std::vector<double>& ours) {
  double kl = 0, rest_golden = 1, rest_ours = 1;
  for (const auto& [id, lp] : top) {
    const double p = std::exp(lp);
    kl += p * (lp - ours[static_cast<size_t>(id)]);
    rest_golden -= p;
    rest_ours -= std::exp(ours[static_cast<size_t>(id)]);
  }
  if (rest_golden > 1e-12 && rest_ours > 1e-12)
    kl += rest_golden * std::log(rest_golden / rest_ours);
  return std::max(0.0, kl);
}

/// Full KL(golden || ours) from two logits rows.
inline double full_kl(std::span<const float> golden, std::span<const float> ours) {
  auto g = log_softmax(golden);
  auto o = log_softmax(ours);
  double kl = 0;
  for (size_t i = 0; i < g.size(); ++i) kl += std::exp(g[i]) * (g[i] - o[i]);
  return std::max(0.0, kl);
}

}  // namespace inference::test
