// tokenizer/flat_hash.hpp — the hash function and open-addressing layout behind the hot
// lookups of encoding (token text -> id, merge pair -> result). std::unordered_map's node
// chasing and prime-modulo buckets made these lookups the bottleneck.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace inference::tokenizer {

/// A fast 64-bit hash of a short byte string (8 bytes per step, multiply-xorshift mixing).
inline uint64_t hash_bytes(std::string_view s) noexcept {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = s.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h *= kMul;
  return h ^ (h >> 32);
}

/// Mixes a 64-bit integer key.
inline uint64_t hash_u64(uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

/// Smallest power of two >= 1.6 * n (load factor <= 5/8), at least 16. Linear probing stays
/// short at that load, and a 150k-entry table (Qwen's vocabulary and merges) takes 2^18 slots
/// instead of 2^19: 4 MB less per table.
inline size_t table_size_for(size_t n) noexcept {
  size_t size = 16;
  while (size * 5 < n * 8) size <<= 1;
  return size;
}

}  // namespace inference::tokenizer
