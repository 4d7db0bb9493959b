// grammar/key_set.hpp — a set of 64-bit keys for one expansion, cleared in time proportional to
// what was inserted.
//
// The matcher de-duplicates (position, parent) pairs while it expands a state: up to tens of
// thousands per new state for ambiguous grammars, a handful for most. Open addressing over a
// power-of-two table, with the inserted keys also listed so that clear() touches only their
// slots: no allocation once the table has grown, no per-key nodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace inference::grammar {

class KeySet {
 public:
  /// Inserts `key` (any value but kEmpty); false if it was already there.
  bool insert(uint64_t key) {
    if ((keys_.size() + 1) * 2 > slots_.size()) grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == key) return false;
      if (slots_[i] == kEmpty) {
        slots_[i] = key;
        keys_.push_back(key);
        return true;
      }
    }
  }
  size_t size() const { return keys_.size(); }
  void clear() {
    const size_t mask = slots_.size() - 1;
    for (uint64_t key : keys_) {
      size_t i = mix(key) & mask;
      while (slots_[i] != key) i = (i + 1) & mask;
      slots_[i] = kEmpty;
    }
    keys_.clear();
  }

  static constexpr uint64_t kEmpty = ~uint64_t{0};

 private:
  static size_t mix(uint64_t key) {
    key ^= key >> 31;
    key *= 0x9e3779b97f4a7c15ull;
    return static_cast<size_t>(key ^ (key >> 29));
  }
  void grow() {
    slots_.assign(slots_.empty() ? 64 : slots_.size() * 2, kEmpty);
    const size_t mask = slots_.size() - 1;
    for (uint64_t key : keys_) {
      size_t i = mix(key) & mask;
      while (slots_[i] != kEmpty) i = (i + 1) & mask;
      slots_[i] = key;
    }
  }

  std::vector<uint64_t> slots_;
  std::vector<uint64_t> keys_;
};

}  // namespace inference::grammar
