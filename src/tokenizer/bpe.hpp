// tokenizer/bpe.hpp — the BPE merge loop shared by GGUF and tokenizer.json vocabularies.
//
// A word starts as a list of symbols (token ids of its smallest pieces); the adjacent pair
// with the lowest merge rank is merged, leftmost first on equal ranks, until no pair has a
// merge. A heap of candidate pairs over a linked list of symbols makes this O(n log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tokenizer/flat_hash.hpp"

namespace inference::tokenizer {

class BpeMerges {
 public:
  struct Result {
    int32_t rank;
    int32_t merged;  ///< symbol id of the merged pair
  };
  /// Registers (left, right) -> merged with `rank`; a pair already registered keeps its first
  /// (lower) rank.
  void add(int32_t left, int32_t right, int32_t rank, int32_t merged);
  const Result* find(int32_t left, int32_t right) const noexcept {
    if (slots_.empty()) return nullptr;
    const uint64_t k = key(left, right);
    for (size_t i = hash_u64(k) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.result.rank < 0) return nullptr;
      if (s.key == k) return &s.result;
    }
  }
  /// Sizes the table for `n` merges (call before add()).
  void reserve(size_t n);
  size_t size() const noexcept { return count_; }

 private:
  static uint64_t key(int32_t l, int32_t r) noexcept {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  struct Slot {
    uint64_t key = 0;
    Result result{-1, -1};  ///< rank -1: empty
  };
  void grow();
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

/// One symbol of a word: its id and the bytes of the word it covers.
struct BpeSymbol {
  int32_t id;
  uint32_t offset;
  uint32_t length;
};

/// Working memory reused across words (one per encode call).
struct BpeScratch {
  struct Node {
    int32_t prev, next;
  };
  struct Candidate {
    int32_t rank;
    int32_t left;  ///< index of the left symbol
    int32_t left_id, right_id, merged;
  };
  std::vector<Node> nodes;
  std::vector<Candidate> heap;
};

/// Merges `symbols` in place until no adjacent pair has a merge; removed symbols are erased.
void bpe_merge(std::vector<BpeSymbol>& symbols, const BpeMerges& merges, BpeScratch& scratch);

}  // namespace inference::tokenizer
