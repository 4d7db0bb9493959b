// engine/rope_scaling.cpp — see rope_scaling.hpp.
#include "engine/rope_scaling.hpp"

#include <cmath>
#include <numbers>

namespace inference::engine {

std::vector<float> llama3_rope_factors(const Llama3RopeScaling& s, double base, int dims) {
  const double low_wavelen = s.original_context / s.low_freq_factor;
  const double high_wavelen = s.original_context / s.high_freq_factor;
  std::vector<float> factors;
  for (int i = 0; i < dims; i += 2) {
    // The frequency is computed in float32, as the reference code does.
    const float freq =
        1.0f / std::pow(static_cast<float>(base), static_cast<float>(i) / static_cast<float>(dims));
    const double wavelen = 2 * std::numbers::pi / static_cast<double>(freq);
    double f;
    if (wavelen < high_wavelen) {
      f = 1.0;  // high frequencies: unchanged
    } else if (wavelen > low_wavelen) {
      f = s.factor;  // low frequencies: fully scaled
    } else {
      const double smooth = (s.original_context / wavelen - s.low_freq_factor) /
                            (s.high_freq_factor - s.low_freq_factor);
      f = 1.0 / ((1 - smooth) / s.factor + smooth);
    }
    factors.push_back(static_cast<float>(f));
  }
  return factors;
}

}  // namespace inference::engine
