// tokenizer/special_tokens.hpp — finding special/added tokens in text before tokenization.
//
// Two published rules, both deterministic:
//  - llama.cpp (GGUF vocabs): tokens are tried longest text first (ties: lower id); each one
//    takes every non-overlapping occurrence, left to right, in the text no earlier token took.
//    A token may strip whitespace on its left/right (lstrip/rstrip attributes).
//  - Hugging Face (added tokens of tokenizer.json): scan left to right and take, at the first
//    position where any token matches, the longest one.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace inference::tokenizer {

/// A piece of the input: either plain text [offset, offset+length) or one token.
struct Fragment {
  int32_t token = -1;  ///< -1 for text
  uint32_t offset = 0;
  uint32_t length = 0;
  bool is_text() const noexcept { return token < 0; }
};

class SpecialTokenMatcher {
 public:
  struct Entry {
    int32_t id;
    std::string_view text;  ///< must outlive the matcher (points into the Vocab)
    bool lstrip = false;
    bool rstrip = false;
    bool always = false;  ///< matched even when special-token parsing is off (user-defined)
  };

  SpecialTokenMatcher() = default;
  explicit SpecialTokenMatcher(std::vector<Entry> entries);

  bool empty() const noexcept { return entries_.empty(); }
  /// llama.cpp's rule. `parse_special` false: only entries marked `always` are considered.
  std::vector<Fragment> partition_longest_first(std::string_view text, bool parse_special) const;
  /// Hugging Face's rule (leftmost, then longest).
  std::vector<Fragment> partition_leftmost_longest(std::string_view text, bool parse_special) const;

 private:
  struct Match {
    uint32_t pos;
    uint32_t entry;  ///< index into entries_ (entries_ sorted by priority)
  };
  // Calls fn(entry index) for every entry whose text starts at text[pos].
  template <class Fn>
  void matches_at(std::string_view text, size_t pos, bool parse_special, Fn&& fn) const;

  std::vector<Entry> entries_;  ///< sorted: longer text first, then lower id
  // Byte trie: node -> children keyed by (node << 8 | byte); node_entry_[node] = entry or -1.
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<int32_t> node_entry_;
  bool first_byte_[256] = {};
};

}  // namespace inference::tokenizer
