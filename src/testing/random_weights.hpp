// testing/random_weights.hpp — deterministic random values for generated models.
//
// Every row has its own generator seeded from (seed, tensor index, row), so a file is the same
// byte for byte whatever the number of threads that wrote it. Values are approximately
// N(0, sigma): the sum of four uniforms (Irwin–Hall), which is cheap (one 64-bit draw per value)
// and bounded (|x| <= 3.46 sigma), so a random model never holds an extreme outlier.
#pragma once

#include <cstdint>
#include <span>

#include "engine/generation/rng.hpp"

namespace inference::testing {

/// One row's generator: the sampler's xoshiro256** (seeded through splitmix64), keyed by
/// (seed, tensor, row).
class RowRng {
 public:
  RowRng(uint64_t seed, uint64_t tensor, uint64_t row)
      : rng_(seed ^ (tensor * 0xd1b54a32d192ed03ull) ^ (row * 0x8cb92ba72f3d8dd7ull)) {}
  uint64_t next() { return rng_.next(); }
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
  generation::Rng rng_;
};

inline void fill_normal(std::span<float> out, RowRng& rng, float sigma) {
  for (auto& v : out) v = rng.normal(sigma);
}

}  // namespace inference::testing
