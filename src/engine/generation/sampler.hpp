// generation/sampler.hpp — picks the next token from a row of logits.
//
// temperature 0: greedy (argmax after penalties, ties to the lowest id). Otherwise the chain is
// penalties → top-k → top-p → min-p → temperature → a draw from a seeded Rng. Same config,
// seed and inputs give the same tokens on every platform.
//
// Penalties: repeat_penalty follows llama.cpp (over the distinct tokens among the last
// repeat_last_n of prompt + generated tokens: a positive logit is divided by the penalty, a
// negative one multiplied; repeat_last_n -1 = the whole history, 0 = off). presence_penalty and
// frequency_penalty follow OpenAI: over the tokens generated so far, logit -= count·frequency +
// (count > 0)·presence.
//
// All buffers are sized once in the constructor: sampling allocates nothing per token.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/generation/rng.hpp"
#include "inference/error.hpp"
#include "inference/types.hpp"

namespace inference::generation {

/// Checks a GenerateConfig for values no sampler can honour (negative temperature, top_p
/// outside (0, 1], …). Returns an invalid_argument Status naming the field, or ok.
Status validate_generate_config(const GenerateConfig& config, int32_t n_vocab);

class Sampler {
 public:
  /// Throws Error(invalid_argument) when validate_generate_config rejects `config`.
  Sampler(const GenerateConfig& config, int32_t n_vocab);

  /// Starts a new generation after `prompt` (the repeat-penalty history) and reseeds.
  void reset(std::span<const int32_t> prompt);
  /// Records a generated token (penalty history and counts).
  void accept(int32_t token);
  /// The next token for `logits` (n_vocab floats). Does not call accept().
  int32_t sample(std::span<const float> logits);

  bool greedy() const noexcept { return config_.temperature == 0.0f; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
  };
  bool has_penalties() const noexcept;
  void apply_penalties(std::vector<float>& logits);
  // Sorts candidates_[0, n) best first until the prefix holding top_p of the mass is known;
  // returns how many candidates remain after top-k and top-p.
  size_t top_k_top_p(size_t n);

  GenerateConfig config_;
  int32_t n_vocab_;
  Rng rng_;
  std::vector<int32_t> history_;          // prompt + generated, for the repeat penalty
  std::vector<int32_t> generated_count_;  // per id, generated tokens only
  std::vector<int32_t> generated_ids_;    // distinct ids with generated_count_ > 0
  std::vector<uint32_t> seen_stamp_;      // de-duplicates the repeat window without clearing
  uint32_t stamp_ = 0;
  std::vector<float> work_;  // penalised copy of the logits
  std::vector<Candidate> candidates_;
  std::vector<float> probs_;
};

/// argmax with ties to the lowest id (the reference's greedy rule).
int32_t argmax(std::span<const float> logits);

}  // namespace inference::generation
