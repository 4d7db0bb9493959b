// engine/rope_scaling.hpp — Llama 3 RoPE frequency scaling as per-frequency divisors (what GGUF
// files carry as the rope_freqs tensor), computed from the config.json numbers with the
// published formula of the Llama 3.1 reference code (and of GGUF converters).
#pragma once

#include <vector>

namespace inference::engine {

struct Llama3RopeScaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_context = 8192.0;
};

/// One divisor per rotated pair (dims / 2 values) for RoPE base `base`.
std::vector<float> llama3_rope_factors(const Llama3RopeScaling& s, double base, int dims);

}  // namespace inference::engine
