// perf/model_bench.hpp — llama-bench's two tests driven through the public contract, so any
// backend that offers TokenPromptModel (generate from exact token ids) can be measured the same
// way: ppN (one prompt of N tokens: prefill time) and tgN (N tokens generated one at a time from
// a one-token prompt: N forward passes, as llama-bench's N single-token decodes).
#pragma once

#include <cstdint>
#include <vector>

#include "inference/text_model.hpp"

namespace inference::perf {

/// Benchmark prompt ids: random but fixed (mt19937 seeded 42, like llama-bench's).
std::vector<int32_t> bench_tokens(int n, int32_t n_vocab);

class ContractBench {
 public:
  /// `model` must offer inference::TokenPromptModel and TokenizerModel (Error(unsupported)
  /// otherwise) and stay alive while this object is used.
  explicit ContractBench(TextModel& model);

  int32_t n_vocab() const noexcept { return n_vocab_; }

  /// Seconds of one prompt pass of the first `n` of `tokens`: from the request to the first
  /// generated token (prefill of n tokens + one greedy sample).
  double prompt_pass(const std::vector<int32_t>& tokens, int n);

  /// Seconds to generate `n` tokens greedily from a one-token prompt (ignoring end tokens).
  double generation(const std::vector<int32_t>& tokens, int n);

 private:
  // Every stream starts with a token no earlier stream started with, so no cached prefix is
  // reused and each pass computes from position 0 (llama-bench clears its cache likewise).
  std::vector<int32_t> fresh(const std::vector<int32_t>& tokens, int n);

  TextModel& model_;
  int32_t n_vocab_ = 0;
  int64_t streams_ = 0;
};

}  // namespace inference::perf
