// grammar/token_trie.hpp — every token piece of a vocabulary in one byte trie, stored in
// depth-first order so that a mask is one forward scan: a subtree whose first byte the grammar
// rejects is skipped with a single jump, and prefixes shared by many tokens are checked once.
// Built once per tokenizer and shared (immutable, thread-safe) by every constrained sequence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace inference::grammar {

/// How a token takes part in constrained decoding.
enum class TokenClass : uint8_t {
  text,     ///< matched by its bytes (normal, user-defined and byte-fallback tokens)
  special,  ///< a control token: offered only where its text is part of a grammar literal
  end,      ///< end of generation: allowed exactly when the output is complete
  never,    ///< never allowed (unused/unknown tokens, empty pieces)
};

class TokenTrie {
 public:
  struct Node {
    uint8_t byte;
    uint32_t depth;        ///< 1 for children of the root
    uint32_t next;         ///< index of the first node after this subtree
    uint32_t token_begin;  ///< tokens whose piece ends here: ids_[token_begin, token_end)
    uint32_t token_end;
  };

  /// pieces[i] = the bytes token i contributes to the output.
  TokenTrie(const std::vector<std::string>& pieces, const std::vector<TokenClass>& classes);

  int32_t n_vocab() const { return n_vocab_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int32_t>& token_ids() const { return ids_; }
  uint32_t max_depth() const { return max_depth_; }
  const std::vector<int32_t>& special_tokens() const { return special_; }
  const std::vector<int32_t>& end_tokens() const { return end_; }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }

 private:
  int32_t n_vocab_ = 0;
  std::vector<Node> nodes_;
  std::vector<int32_t> ids_;
  std::vector<int32_t> special_;
  std::vector<int32_t> end_;
  std::vector<std::string> pieces_;
  uint32_t max_depth_ = 0;
};

}  // namespace inference::grammar
