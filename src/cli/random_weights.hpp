// cli/random_weights.hpp — deterministic random values for generated models.
//
// Every row has its own generator seeded from (seed, tensor index, row), so a file is the same
// byte for byte whatever the number of threads that wrote it. Values are approximately
// N(0, sigma): the sum of four uniforms (Irwin–Hall), which is cheap (one 64-bit draw per value)
// and bounded (|x| <= 3.46 sigma), so a random model never holds an extreme outlier.
#pragma once

#include <cstdint>
#include <span>

namespace inference::cli {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class RowRng {
 public:
  RowRng(uint64_t seed, uint64_t tensor, uint64_t row) {
    uint64_t s = seed ^ (tensor * 0xd1b54a32d192ed03ull) ^ (row * 0x8cb92ba72f3d8dd7ull);
    for (auto& word : state_) word = splitmix64(s);
  }
  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  /// Approximately normal with mean 0 and standard deviation `sigma`.
  float normal(float sigma) {
    const uint64_t r = next();
    // Four 16-bit uniforms on [0, 1): their sum has mean 2 and variance 4/12 = 1/3.
    const float sum =
        static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48)) *
        (1.0f / 65536.0f);
    constexpr float kSqrt3 = 1.7320508f;
    return (sum - 2.0f) * kSqrt3 * sigma;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

inline void fill_normal(std::span<float> out, RowRng& rng, float sigma) {
  for (auto& v : out) v = rng.normal(sigma);
}

}  // namespace inference::cli
