// grammar/token_masker.hpp — which tokens may come next under a grammar, for one sequence.
//
// The allowed set of a matcher state is computed by one scan of the shared TokenTrie (each
// trie node costs one cached DFA transition; rejected subtrees are skipped whole) and cached
// per state: inside a JSON string, after a number's digits or in any other loop the state
// repeats and the mask is a cache hit.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "grammar/matcher.hpp"
#include "grammar/token_trie.hpp"

namespace inference::grammar {

class TokenMasker {
 public:
  TokenMasker(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie);

  /// Bit i set = token i may come next (end-of-generation tokens only when complete()).
  const std::vector<uint64_t>& allowed();
  /// Sets the logits of disallowed tokens to -infinity (logits.size() may exceed n_vocab:
  /// the extra entries are disallowed).
  void mask(std::span<float> logits);
  /// Advances past token `id`. Returns false (state unchanged) if `id` is not allowed here.
  bool accept(int32_t id);
  /// The output so far is a complete sentence of the grammar.
  bool complete() const { return matcher_.accepts(state_); }
  /// No token can extend the output (an end token may still be allowed).
  bool exhausted() const { return !matcher_.can_continue(state_) || ended_; }
  /// An end-of-generation token was accepted.
  bool ended() const { return ended_; }

  /// Whether `bytes` can continue the output from the current state (no state change).
  bool can_continue_with(std::string_view bytes);

 private:
  void compute(std::vector<uint64_t>& bits);

  std::shared_ptr<const TokenTrie> trie_;
  Matcher matcher_;
  Matcher::State state_;
  bool ended_ = false;
  std::vector<int32_t> specials_;  // control tokens whose text appears in a grammar literal
  std::unordered_map<Matcher::State, std::vector<uint64_t>> cache_;
  std::vector<Matcher::State> depth_state_;
};

}  // namespace inference::grammar
