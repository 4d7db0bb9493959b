// tokenizer/vocab.hpp — the token table shared by every tokenizer: texts (in one arena),
// types, scores and the text -> id index.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/flat_hash.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::tokenizer {

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
  int32_t find(std::string_view text) const noexcept { return find(text, hash_bytes(text)); }
  /// The same, with `h` = hash_bytes(text) computed by the caller.
  int32_t find(std::string_view text, uint64_t h) const noexcept {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0) return -1;
      if (slot.hash == static_cast<uint32_t>(h) && slot.length == text.size() &&
          std::memcmp(arena_.data() + slot.offset, text.data(), text.size()) == 0)
        return slot.id;
    }
  }
  /// Hints that find(_, h) will be called soon.
  void prefetch(uint64_t h) const noexcept { __builtin_prefetch(&slots_[h & mask_]); }
  size_t max_text_length() const noexcept { return max_length_; }
  /// Whether byte `b` occurs in some token text of two or more bytes.
  bool in_long_text(unsigned char b) const noexcept { return in_long_[b >> 6] >> (b & 63) & 1; }

 private:
  std::string arena_;
  std::vector<uint32_t> offsets_;
  std::vector<TokenType> types_;
  std::vector<float> scores_;
  // Open addressing, linear probing: slot -> id (-1 empty) and the low hash bits of its text,
  // side by side so that a probe touches one cache line.
  // The text's place in the arena is kept here too, so a hit touches the slot and the text only.
  struct Slot {
    int32_t id;
    uint32_t hash;
    uint32_t offset;
    uint32_t length;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t max_length_ = 0;
  uint64_t in_long_[4] = {0, 0, 0, 0};
};

}  // namespace inference::tokenizer
