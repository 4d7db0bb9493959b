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

  /// llama-bench's -d: the same tests after `depth` tokens of context already in the cache.
  /// The context (the first `depth` of `tokens`, its first token made unique once) is sent
  /// untimed once; the timed requests extend it, so the backend's prefix reuse keeps it and only
  /// the new tokens are computed. `tokens` must hold depth + n ids.
  /// ppN: seconds from the request to the first token, for n new prompt tokens.
  double prompt_pass_at(const std::vector<int32_t>& tokens, int depth, int n);
  /// tgN: seconds from the first generated token to the (n + 1)-th: n single-token forward
  /// passes at positions depth + 1 ... depth + n.
  double generation_at(const std::vector<int32_t>& tokens, int depth, int n);

 private:
  // Sends the context of `depth` tokens (untimed) unless it is the current one.
  void ensure_context(const std::vector<int32_t>& tokens, int depth);
  // The context followed by tokens[depth, depth + n), the first of them made unique.
  std::vector<int32_t> extend_context(const std::vector<int32_t>& tokens, int depth, int n);

  // Every stream starts with a token no earlier stream started with, so no cached prefix is
  // reused and each pass computes from position 0 (llama-bench clears its cache likewise).
  std::vector<int32_t> fresh(const std::vector<int32_t>& tokens, int n);

  TextModel& model_;
  int32_t n_vocab_ = 0;
  int64_t streams_ = 0;
  std::vector<int32_t> context_;
  int context_depth_ = -1;
};

}  // namespace inference::perf
