// grammar/matcher.hpp — recognises a Grammar byte by byte.
//
// A parse position is a stack of return points, kept as hash-consed nodes (position, parent) so
// that equal stacks are the same node id. The set of live stacks after some input is interned
// as a State; transitions State × byte-class → State are computed on first use and cached (a
// lazily built DFA over the pushdown configurations). Within a JSON string, for example, every
// ordinary character leads back to the same State, so walking the tokenizer's trie costs one
// table look-up per trie node. Expansion pops a frame before pushing when a rule is referenced
// in tail position, so right-recursive loops (x*) keep the stack flat.
//
// Not thread-safe (the caches grow on use); one Matcher per sequence, over a shared Grammar.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.hpp"
#include "grammar/key_set.hpp"

namespace inference::grammar {

/// Most parse positions one expansion may reach. Unambiguous grammars (JSON, tool calls) keep a
/// few per state; only nested repetitions of overlapping items multiply them, and past this an
/// input would cost seconds per byte, so the matcher stops with an error instead.
inline constexpr size_t kMaxLivePositions = size_t{1} << 15;

class Matcher {
 public:
  using State = int32_t;
  static constexpr State kDead = 0;  ///< no stack survives: the input cannot continue

  explicit Matcher(std::shared_ptr<const Grammar> grammar);

  State start() const { return start_; }
  /// The state after `byte`, kDead if the grammar cannot accept it here. Throws
  /// inference::Error when the grammar is too ambiguous here (kMaxLivePositions).
  State advance(State s, uint8_t byte) {
    const size_t i = static_cast<size_t>(s) * n_classes_ + byte_class_[byte];
    int32_t t = trans_[i];
    if (t < 0) {
      t = compute(s, byte);  // may grow trans_: index again afterwards
      trans_[i] = t;
    }
    return t;
  }
  State advance(State s, std::string_view bytes) {
    for (char c : bytes) {
      if (s == kDead) break;
      s = advance(s, static_cast<uint8_t>(c));
    }
    return s;
  }
  /// The input so far is a complete sentence of the grammar.
  bool accepts(State s) const { return accepting_[static_cast<size_t>(s)] != 0; }
  /// Some byte can follow (false for dead states and states that only accept).
  bool can_continue(State s) const { return continuing_[static_cast<size_t>(s)] != 0; }
  /// Whether the whole text is a sentence of the grammar.
  bool matches(std::string_view text) { return accepts(advance(start(), text)); }

  /// Number of states built so far (the caches grow with it).
  size_t state_count() const { return states_.size(); }
  size_t memory_bytes() const;
  /// Drops every cached state except `keep`, which is returned under its new id. Call when
  /// memory_bytes() grows too large; every other State id becomes invalid.
  State compact(State keep);

  const Grammar& grammar() const { return *grammar_; }

 private:
  struct Node {
    int32_t pos;     // element index: a byte element (stack top) or a return point
    int32_t parent;  // node id, or -1 for the bottom of the stack
  };
  static constexpr int32_t kAcceptNode = 0;

  int32_t node(int32_t pos, int32_t parent);
  void expand(int32_t pos, int32_t parent, std::vector<int32_t>& out);
  State intern(std::vector<int32_t>& nodes);
  State compute(State s, uint8_t byte);
  void reset_caches();

  std::shared_ptr<const Grammar> grammar_;
  std::array<uint16_t, 256> byte_class_{};
  size_t n_classes_ = 1;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, int32_t> node_ids_;
  std::vector<std::vector<int32_t>> states_;                 // sorted node ids per state
  std::unordered_map<std::string_view, int32_t> state_ids_;  // key: bytes of the node vector
  std::vector<int32_t> trans_;
  std::vector<uint8_t> accepting_;
  std::vector<uint8_t> continuing_;
  State start_ = kDead;
  // Scratch for expand(), reused so that steady-state matching does not allocate.
  std::vector<std::pair<int32_t, int32_t>> work_;
  // A hash set: one expansion can reach thousands of (position, parent) pairs when bounded
  // repetitions nest (item{1,10} of [^\n]{1,60} has 600 live stacks), where a linear search
  // made each new state quadratic in them.
  KeySet seen_;
  std::vector<int32_t> scratch_;
};

}  // namespace inference::grammar
