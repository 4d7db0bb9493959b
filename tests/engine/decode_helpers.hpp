// Helpers of the engine's decode tests: feed a sequence token by token, compare logits rows.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/engine.hpp"
#include "inference/context.hpp"

namespace inference::test {

// Token by token, one decode call each: the logits rows of every position, concatenated.
inline std::vector<float> run_incremental(engine::Engine& engine,
                                          const std::vector<int32_t>& tokens, int32_t seq) {
  std::vector<float> all, row;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const engine::BatchEntry e{tokens[i], static_cast<int32_t>(i), seq, true};
    engine.decode(Context::background(), std::span(&e, 1), row);
    all.insert(all.end(), row.begin(), row.end());
  }
  return all;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

}  // namespace inference::test
