// tokenizer/vocab.hpp — the token table shared by every tokenizer: texts (in one arena),
// types, scores and the text -> id index.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace inference::tokenizer {

/// Hash for string_view keys (std::hash<std::string_view> is fine; named for clarity).
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class Vocab {
 public:
  /// Builds the table. `texts` are copied into one arena; when two ids share a text, lookups
  /// give the last one (as llama.cpp's token_to_id map does).
  Vocab(const std::vector<std::string_view>& texts, std::vector<TokenType> types,
        std::vector<float> scores);
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  int32_t size() const noexcept { return static_cast<int32_t>(offsets_.size()) - 1; }
  bool valid(int32_t id) const noexcept { return id >= 0 && id < size(); }
  std::string_view text(int32_t id) const noexcept {
    return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  TokenType type(int32_t id) const noexcept { return types_[id]; }
  void set_type(int32_t id, TokenType type) noexcept { types_[id] = type; }
  float score(int32_t id) const noexcept { return scores_.empty() ? 0.0f : scores_[id]; }
  /// Id of a text, or -1.
  int32_t find(std::string_view text) const noexcept {
    auto it = index_.find(text);
    return it == index_.end() ? -1 : it->second;
  }
  size_t max_text_length() const noexcept { return max_length_; }

 private:
  std::string arena_;
  std::vector<uint32_t> offsets_;
  std::vector<TokenType> types_;
  std::vector<float> scores_;
  std::unordered_map<std::string_view, int32_t, TextHash> index_;
  size_t max_length_ = 0;
};

}  // namespace inference::tokenizer
