// tokenizer/bpe.hpp — the BPE merge loop shared by GGUF and tokenizer.json vocabularies.
//
// A word starts as a list of symbols (token ids of its smallest pieces); the adjacent pair
// with the lowest merge rank is merged, leftmost first on equal ranks, until no pair has a
// merge. A heap of candidate pairs over a linked list of symbols makes this O(n log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace inference::tokenizer {

class BpeMerges {
 public:
  struct Result {
    int32_t rank;
    int32_t merged;  ///< symbol id of the merged pair
  };
  /// Registers (left, right) -> merged with `rank`; a pair already registered keeps its first
  /// (lower) rank.
  void add(int32_t left, int32_t right, int32_t rank, int32_t merged) {
    map_.try_emplace(key(left, right), Result{rank, merged});
  }
  const Result* find(int32_t left, int32_t right) const noexcept {
    auto it = map_.find(key(left, right));
    return it == map_.end() ? nullptr : &it->second;
  }
  void reserve(size_t n) { map_.reserve(n); }
  size_t size() const noexcept { return map_.size(); }

 private:
  static uint64_t key(int32_t l, int32_t r) noexcept {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  std::unordered_map<uint64_t, Result> map_;
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
