// Prompt-block attention (attend_tokens) against attend_head, one query at a time: F16 and F32
// caches, linear and ring (sliding-window) layouts with empty cells, with and without a window,
// several head sizes. attend_head is the reference (its scalar path is the one the engine's
// exactness tests pin to llama.cpp); the batched kernel may differ by float rounding only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/attention_batch.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::kernels {
namespace {

struct Cache {
  std::vector<uint16_t> k16, v16;
  std::vector<float> k32, v32;
  std::vector<int32_t> pos;
  KvHeadView view(bool f16, int32_t head_dim, int32_t first_cell) const {
    KvHeadView kv;
    kv.f16 = f16;
    kv.k = f16 ? static_cast<const void*>(k16.data()) : k32.data();
    kv.v = f16 ? static_cast<const void*>(v16.data()) : v32.data();
    kv.cell_stride = head_dim;
    kv.cell_pos = pos.data();
    kv.n_cells = static_cast<int32_t>(pos.size());
    kv.first_cell = first_cell;
    return kv;
  }
};

// n_cells cells; `ring` rotates the positions by `first` (cell (first + i) % n holds position
// base + i) and leaves the last `empty` of them unfilled.
Cache make_cache(int32_t n_cells, int32_t head_dim, int32_t first, int32_t base, int32_t empty,
                 std::mt19937& rng) {
  std::normal_distribution<float> dist(0.f, 1.f);
  Cache c;
  const size_t n = static_cast<size_t>(n_cells) * head_dim;
  for (size_t i = 0; i < n; ++i) {
    c.k32.push_back(fp16_to_fp32(fp32_to_fp16(dist(rng))));
    c.v32.push_back(fp16_to_fp32(fp32_to_fp16(dist(rng))));
    c.k16.push_back(fp32_to_fp16(c.k32.back()));
    c.v16.push_back(fp32_to_fp16(c.v32.back()));
  }
  c.pos.assign(static_cast<size_t>(n_cells), -1);
  for (int32_t i = 0; i < n_cells - empty; ++i)
    c.pos[static_cast<size_t>((first + i) % n_cells)] = base + i;
  return c;
}

void check(const Cache& cache, bool f16, int32_t head_dim, int32_t first_cell, int32_t window,
           const std::vector<int32_t>& positions, int32_t n_heads, std::mt19937& rng) {
  const int32_t n_tokens = static_cast<int32_t>(positions.size());
  const int64_t stride = static_cast<int64_t>(n_heads) * head_dim + 5;
  std::normal_distribution<float> dist(0.f, 2.f);
  std::vector<float> q(static_cast<size_t>(stride * n_tokens));
  for (float& x : q) x = dist(rng);
  std::vector<float> got(q.size(), 0.f), want(q.size(), 0.f);
  const KvHeadView kv = cache.view(f16, head_dim, first_cell);
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));

  std::vector<float> scratch(attend_tokens_scratch_floats(head_dim, kv.n_cells) + 16);
  float* aligned =
      scratch.data() + (16 - reinterpret_cast<uintptr_t>(scratch.data()) / 4 % 16) % 16;
  attend_tokens({q.data(), got.data(), stride, n_tokens, n_heads, positions.data()}, head_dim, kv,
                window, scale, aligned);

  std::vector<float> scores(static_cast<size_t>(kv.n_cells)),
      q_rounded(static_cast<size_t>(head_dim));
  float max_v = 0.f;
  for (float v : cache.v32) max_v = std::max(max_v, std::fabs(v));
  for (int32_t t = 0; t < n_tokens; ++t) {
    for (int32_t h = 0; h < n_heads; ++h) {
      const size_t off = static_cast<size_t>(t * stride + h * head_dim);
      attend_head(q.data() + off, head_dim, kv, {positions[static_cast<size_t>(t)], window}, scale,
                  scores.data(), q_rounded.data(), want.data() + off);
      for (int32_t d = 0; d < head_dim; ++d) {
        // F16 rounding of the softmax weights may land on neighbouring halves when the weights
        // differ in the last float bit: one half ulp (2^-11 relative) of the weights' sum.
        ASSERT_NEAR(got[off + static_cast<size_t>(d)], want[off + static_cast<size_t>(d)],
                    (f16 ? 1e-3f : 2e-5f) * max_v)
            << "f16 " << f16 << " head_dim " << head_dim << " window " << window << " token " << t
            << " head " << h << " d " << d;
      }
    }
  }
}

TEST(AttendTokens, MatchesAttendHeadPerQuery) {
  if (!attend_tokens_available(64)) {
    GTEST_SKIP() << "no batched attention kernel on this CPU (needs AVX-512); attend_head is used";
  }
  std::mt19937 rng(31);
  for (int32_t head_dim : {16, 64, 256}) {
    for (bool f16 : {true, false}) {
      // Linear cache: cell = position, prompt block = positions 40..69 of 70.
      const Cache linear = make_cache(70, head_dim, 0, 0, 0, rng);
      std::vector<int32_t> block(30);
      for (int32_t i = 0; i < 30; ++i) block[static_cast<size_t>(i)] = 40 + i;
      check(linear, f16, head_dim, 0, 0, block, 3, rng);
      check(linear, f16, head_dim, 0, 20, block, 2, rng);
      // Ring of 50 cells starting at cell 17, holding positions 100..144 (5 empty cells).
      const Cache ring = make_cache(50, head_dim, 17, 100, 5, rng);
      std::vector<int32_t> late = {130, 131, 132, 140, 144};
      check(ring, f16, head_dim, 17, 0, late, 4, rng);
      check(ring, f16, head_dim, 17, 16, late, 1, rng);
    }
  }
}

TEST(AttendTokens, QueryBeforeEveryCellGivesZeros) {
  if (!attend_tokens_available(16)) GTEST_SKIP() << "no batched attention kernel on this CPU";
  std::mt19937 rng(32);
  const Cache c = make_cache(20, 16, 0, 10, 0, rng);  // positions 10..29
  const std::vector<int32_t> pos = {5};
  std::vector<float> q(16, 1.f), out(16, 7.f);
  std::vector<float> scratch(attend_tokens_scratch_floats(16, 20) + 16);
  float* aligned =
      scratch.data() + (16 - reinterpret_cast<uintptr_t>(scratch.data()) / 4 % 16) % 16;
  attend_tokens({q.data(), out.data(), 16, 1, 1, pos.data()}, 16, c.view(true, 16, 0), 0, 0.25f,
                aligned);
  for (float x : out) EXPECT_EQ(x, 0.f);
}

}  // namespace
}  // namespace inference::kernels
