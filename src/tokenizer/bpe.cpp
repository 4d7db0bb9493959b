#include "tokenizer/bpe.hpp"

#include <algorithm>

namespace inference::tokenizer {
namespace {

// Heap order: lowest rank on top, then leftmost symbol.
struct Later {
  bool operator()(const BpeScratch::Candidate& a, const BpeScratch::Candidate& b) const noexcept {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  }
};

}  // namespace

void BpeMerges::reserve(size_t n) {
  if (table_size_for(n) <= slots_.size()) return;
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(table_size_for(n), Slot{});
  mask_ = slots_.size() - 1;
  count_ = 0;
  for (const Slot& s : old) {
    if (s.result.rank >= 0)
      add(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xFFFFFFFFu),
          s.result.rank, s.result.merged);
  }
}

void BpeMerges::add(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  if (rank < 0) return;
  if (table_size_for(count_ + 1) > slots_.size()) reserve(2 * (count_ + 1));
  const uint64_t k = key(left, right);
  for (size_t i = hash_u64(k) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.result.rank < 0) {
      s = {k, {rank, merged}};
      ++count_;
      return;
    }
    if (s.key == k) return;  // the first (lowest-rank) registration stays
  }
}

void bpe_merge(std::vector<BpeSymbol>& symbols, const BpeMerges& merges, BpeScratch& scratch) {
  const auto n = static_cast<int32_t>(symbols.size());
  if (n < 2) return;
  auto& nodes = scratch.nodes;
  auto& heap = scratch.heap;
  nodes.resize(static_cast<size_t>(n));
  heap.clear();
  for (int32_t i = 0; i < n; ++i) nodes[i] = {i - 1, i + 1 < n ? i + 1 : -1};

  auto consider = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = nodes[left].next;
    if (right < 0) return;
    const auto* m = merges.find(symbols[left].id, symbols[right].id);
    if (!m) return;
    heap.push_back({m->rank, left, symbols[left].id, symbols[right].id, m->merged});
    std::push_heap(heap.begin(), heap.end(), Later{});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), Later{});
    const auto c = heap.back();
    heap.pop_back();
    BpeSymbol& left = symbols[c.left];
    const int32_t right_index = nodes[c.left].next;
    // Stale candidate: the left symbol was merged away or changed, or its neighbour did.
    if (left.length == 0 || right_index < 0 || left.id != c.left_id) continue;
    BpeSymbol& right = symbols[right_index];
    if (right.id != c.right_id) continue;
    left.id = c.merged;
    left.length += right.length;
    right.length = 0;
    nodes[c.left].next = nodes[right_index].next;
    if (nodes[right_index].next >= 0) nodes[nodes[right_index].next].prev = c.left;
    consider(nodes[c.left].prev);
    consider(c.left);
  }
  std::erase_if(symbols, [](const BpeSymbol& s) { return s.length == 0; });
}

}  // namespace inference::tokenizer
