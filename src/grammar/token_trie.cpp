#include "grammar/token_trie.hpp"

#include <algorithm>
#include <numeric>

namespace inference::grammar {

TokenTrie::TokenTrie(const std::vector<std::string>& pieces, const std::vector<TokenClass>& classes)
    : n_vocab_(static_cast<int32_t>(pieces.size())), pieces_(pieces) {
  std::vector<int32_t> order;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const TokenClass c = i < classes.size() ? classes[i] : TokenClass::text;
    if (c == TokenClass::end) {
      end_.push_back(static_cast<int32_t>(i));
    } else if (c == TokenClass::special && !pieces[i].empty()) {
      special_.push_back(static_cast<int32_t>(i));
    } else if (c == TokenClass::text && !pieces[i].empty()) {
      order.push_back(static_cast<int32_t>(i));
    }
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return pieces[static_cast<size_t>(a)] < pieces[static_cast<size_t>(b)];
  });
  // Sorted pieces: consecutive ones share their longest common prefix in the trie, so the
  // depth-first node order falls out of one pass with a stack of open nodes.
  std::vector<uint32_t> open;  // node index per depth-1
  const std::string* prev = nullptr;
  for (int32_t id : order) {
    const std::string& p = pieces[static_cast<size_t>(id)];
    size_t lcp = 0;
    if (prev) {
      while (lcp < p.size() && lcp < prev->size() && p[lcp] == (*prev)[lcp]) ++lcp;
    }
    while (open.size() > lcp) {
      nodes_[open.back()].next = static_cast<uint32_t>(nodes_.size());
      open.pop_back();
    }
    for (size_t d = lcp; d < p.size(); ++d) {
      open.push_back(static_cast<uint32_t>(nodes_.size()));
      const auto at = static_cast<uint32_t>(ids_.size());
      nodes_.push_back({static_cast<uint8_t>(p[d]), static_cast<uint32_t>(d + 1), 0, at, at});
    }
    // New nodes start with an empty token range at ids_.size(); equal pieces are adjacent in
    // sorted order, so extending the end keeps every node's range contiguous.
    nodes_[open.back()].token_end = static_cast<uint32_t>(ids_.size()) + 1;
    ids_.push_back(id);
    max_depth_ = std::max<uint32_t>(max_depth_, static_cast<uint32_t>(p.size()));
    prev = &p;
  }
  while (!open.empty()) {
    nodes_[open.back()].next = static_cast<uint32_t>(nodes_.size());
    open.pop_back();
  }
}

}  // namespace inference::grammar
