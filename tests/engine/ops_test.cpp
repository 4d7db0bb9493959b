// The elementwise CPU ops of kernels/cpu/ops against direct float64 formulas and their
// documented rounding (RMSNorm, RoPE normal/NeoX with factors, softmax, GELU table, attention
// masks over linear and ring caches, F16 cache rounding); and the forward pass that spreads
// them over threads giving the same logits, bit for bit, for any thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/ops/activations.hpp"
#include "kernels/cpu/ops/attention.hpp"
#include "kernels/cpu/ops/rms_norm.hpp"
#include "kernels/cpu/ops/rope.hpp"
#include "kernels/cpu/ops/softmax.hpp"
#include "support/testdata.hpp"

namespace inference::kernels {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(RmsNorm, MatchesFormulaAndAppliesWeight) {
  auto x = random_vector(256, 1);
  auto w = random_vector(256, 2);
  std::vector<float> y(256);
  rms_norm_row(x.data(), w.data(), y.data(), 256, 1e-5f);
  double ss = 0;
  for (float v : x) ss += static_cast<double>(v) * v;
  const double scale = 1.0 / std::sqrt(ss / 256 + 1e-5);
  for (size_t i = 0; i < 256; ++i) EXPECT_NEAR(y[i], x[i] * scale * w[i], 1e-5) << i;
  // In place, several rows, no weight.
  std::vector<float> rows = x;
  rows.insert(rows.end(), x.begin(), x.end());
  rms_norm_rows(rows.data(), 256, 2, nullptr, 256, 1e-5f);
  for (size_t i = 0; i < 256; ++i) EXPECT_NEAR(rows[256 + i], x[i] * scale, 1e-5);
}

TEST(Rope, NormalModeRotatesAdjacentPairs) {
  RopeConfig cfg{.n_dims = 8, .freq_base = 10000.0f};
  std::vector<float> cs(8);
  rope_angles(cfg, 3, cs.data());
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  rope_apply(cfg, cs.data(), x.data(), 1, 8);
  const double angle0 = 3.0;  // pair 0 has frequency 1
  EXPECT_NEAR(x[0], std::cos(angle0) * 1 - std::sin(angle0) * 2, 1e-5);
  EXPECT_NEAR(x[1], std::sin(angle0) * 1 + std::cos(angle0) * 2, 1e-5);
  const double angle1 = 3.0 * std::pow(10000.0, -2.0 / 8);
  EXPECT_NEAR(x[2], std::cos(angle1) * 3 - std::sin(angle1) * 4, 1e-5);
}

TEST(Rope, NeoxModePairsHalvesAndKeepsTailDims) {
  RopeConfig cfg{.n_dims = 4, .freq_base = 100.0f, .neox = true};
  std::vector<float> cs(4);
  rope_angles(cfg, 5, cs.data());
  std::vector<float> x = {1, 2, 3, 4, 9, 9};  // head_dim 6, only 4 rotated
  rope_apply(cfg, cs.data(), x.data(), 1, 6);
  const double a0 = 5.0, a1 = 5.0 * std::pow(100.0, -0.5);
  EXPECT_NEAR(x[0], std::cos(a0) * 1 - std::sin(a0) * 3, 1e-5);
  EXPECT_NEAR(x[2], std::sin(a0) * 1 + std::cos(a0) * 3, 1e-5);
  EXPECT_NEAR(x[1], std::cos(a1) * 2 - std::sin(a1) * 4, 1e-5);
  EXPECT_EQ(x[4], 9.0f);
  EXPECT_EQ(x[5], 9.0f);
}

TEST(Rope, FrequencyFactorsAndScaleDivideTheAngle) {
  const std::vector<float> factors = {1.0f, 4.0f};
  RopeConfig cfg{
      .n_dims = 4, .freq_base = 10000.0f, .freq_scale = 0.5f, .freq_factors = factors.data()};
  std::vector<float> cs(4);
  rope_angles(cfg, 7, cs.data());
  EXPECT_NEAR(cs[0], std::cos(7.0 * 0.5), 1e-6);
  EXPECT_NEAR(cs[3], std::sin(0.5 * 7.0 * std::pow(10000.0, -0.5) / 4.0), 1e-6);
}

TEST(Softmax, NormalisesAndMasksInfinities) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {1.0f, -inf, 3.0f, 2.0f};
  softmax_row(x.data(), 4);
  const double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0);
  EXPECT_NEAR(x[0], std::exp(1.0) / z, 1e-6);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_NEAR(x[2], std::exp(3.0) / z, 1e-6);
  std::vector<float> all_masked = {-inf, -inf};
  softmax_row(all_masked.data(), 2);
  EXPECT_EQ(all_masked[0], 0.0f);
  // The log of the normaliser, for a loss that does not underflow where p does.
  std::vector<float> far = {1.0f, -inf, 3.0f, -200.0f};
  const double log_sum = softmax_row_log_sum(far.data(), 4);
  EXPECT_NEAR(log_sum, std::log(std::exp(1.0) + std::exp(3.0) + std::exp(-200.0)), 1e-6);
  EXPECT_NEAR(-200.0 - log_sum, -203.1269, 1e-3);  // log p of an entry whose p is 0 in float
  EXPECT_EQ(far[3], 0.0f);
  std::vector<float> masked = {-inf, -inf};
  EXPECT_EQ(softmax_row_log_sum(masked.data(), 2), -inf);
  std::vector<float> lp(4);
  std::vector<float> y = {1.0f, 0.0f, 3.0f, 2.0f};
  log_softmax_row(y.data(), lp.data(), 4);
  double total = 0;
  for (float v : lp) total += std::exp(static_cast<double>(v));
  EXPECT_NEAR(total, 1.0, 1e-6);
}

TEST(Activations, GeluTableRoundsThroughF16) {
  for (float x : {-12.0f, -3.3f, -0.7f, 0.0f, 0.1234567f, 1.5f, 9.99f, 11.0f}) {
    const float table = gelu_tanh_f16_table(x);
    if (x <= -10.0f) {
      EXPECT_EQ(table, 0.0f);
    } else if (x >= 10.0f) {
      EXPECT_EQ(table, x);
    } else {
      const float expected =
          fp16_to_fp32(fp32_to_fp16(gelu_tanh_exact(fp16_to_fp32(fp32_to_fp16(x)))));
      EXPECT_EQ(table, expected) << x;
      EXPECT_NEAR(table, gelu_tanh_exact(x), 2e-3 * (1 + std::abs(x))) << x;
    }
  }
  std::vector<float> g = {0.5f, -1.0f}, u = {2.0f, 3.0f}, out(2);
  geglu(g.data(), u.data(), out.data(), 2);
  EXPECT_EQ(out[0], gelu_tanh_f16_table(0.5f) * 2.0f);
  swiglu(g.data(), u.data(), out.data(), 2);
  EXPECT_NEAR(out[1], -1.0 / (1.0 + std::exp(1.0)) * 3.0, 1e-6);
}

// A reference attention in double over explicit (position, key, value) triples.
std::vector<double> reference_attention(const std::vector<float>& q, const std::vector<int>& pos,
                                        const std::vector<float>& k, const std::vector<float>& v,
                                        int d, int query_pos, int window, double scale) {
  std::vector<double> scores;
  std::vector<int> idx;
  for (size_t c = 0; c < pos.size(); ++c) {
    if (pos[c] < 0 || pos[c] > query_pos) continue;
    if (window > 0 && query_pos - pos[c] >= window) continue;
    double dot = 0;
    for (int i = 0; i < d; ++i) dot += static_cast<double>(q[i]) * k[c * d + i];
    scores.push_back(dot * scale);
    idx.push_back(static_cast<int>(c));
  }
  std::vector<double> out(d, 0.0);
  if (scores.empty()) return out;
  double max = scores[0], sum = 0;
  for (double s : scores) max = std::max(max, s);
  for (double& s : scores) sum += (s = std::exp(s - max));
  for (size_t j = 0; j < idx.size(); ++j) {
    for (int i = 0; i < d; ++i) out[i] += scores[j] / sum * v[idx[j] * d + i];
  }
  return out;
}

TEST(Attention, CausalAndSlidingWindowMasksOverARing) {
  const int d = 16, cells = 6;
  auto q = random_vector(d, 3);
  auto k = random_vector(d * cells, 4);
  auto v = random_vector(d * cells, 5);
  // A ring of 6 cells holding positions 6..11 (cell = pos % 6), one cell empty.
  std::vector<int32_t> cell_pos = {6, 7, 8, -1, 10, 11};
  KvHeadView view{k.data(), v.data(), false, d, cell_pos.data(), cells};
  std::vector<float> scores(cells), qr(d), out(d);
  for (int window : {0, 3}) {
    for (int query_pos : {8, 10, 11}) {
      attend_head(q.data(), d, view, {query_pos, window}, 0.25f, scores.data(), qr.data(),
                  out.data());
      auto ref = reference_attention(q, std::vector<int>(cell_pos.begin(), cell_pos.end()), k, v, d,
                                     query_pos, window, 0.25);
      for (int i = 0; i < d; ++i) EXPECT_NEAR(out[i], ref[i], 1e-5) << window << " " << query_pos;
    }
  }
  // Nothing visible (query before every cached position): zero output.
  attend_head(q.data(), d, view, {2, 0}, 0.25f, scores.data(), qr.data(), out.data());
  for (float x : out) EXPECT_EQ(x, 0.0f);
}

TEST(Attention, F16CacheRoundsQueryAndWeights) {
  const int d = 8, cells = 3;
  auto q = random_vector(d, 6);
  auto k = random_vector(d * cells, 7);
  auto v = random_vector(d * cells, 8);
  std::vector<uint16_t> k16(k.size()), v16(v.size());
  for (size_t i = 0; i < k.size(); ++i) k16[i] = fp32_to_fp16(k[i]), v16[i] = fp32_to_fp16(v[i]);
  std::vector<int32_t> cell_pos = {0, 1, 2};
  KvHeadView view{k16.data(), v16.data(), true, d, cell_pos.data(), cells};
  std::vector<float> scores(cells), qr(d), out(d);
  attend_head(q.data(), d, view, {2, 0}, 0.3f, scores.data(), qr.data(), out.data());
  // Reference with every rounding the F16 path documents.
  std::vector<float> qh(d), kh(k.size()), vh(v.size());
  for (int i = 0; i < d; ++i) qh[i] = fp16_to_fp32(fp32_to_fp16(q[i]));
  for (size_t i = 0; i < k.size(); ++i) kh[i] = fp16_to_fp32(k16[i]), vh[i] = fp16_to_fp32(v16[i]);
  auto ref = reference_attention(qh, {0, 1, 2}, kh, vh, d, 2, 0, 0.3);
  for (int i = 0; i < d; ++i) EXPECT_NEAR(out[i], ref[i], 2e-3);
}

}  // namespace
}  // namespace inference::kernels

namespace inference::engine {
namespace {

std::vector<float> prompt_logits(const std::string& dir, const std::string& file, int threads,
                                 const std::string& kv_type, bool one_by_one) {
  const auto path = test::testdata_dir() / "models" / dir / file;
  auto engine =
      Engine::load(path, {.context_length = 64, .threads = threads, .kv_cache_type = kv_type});
  // 23 tokens of the set's s2 sequence: longer than gemma3's window of 8 (the ring wraps), and
  // split unevenly over 2 threads.
  const std::vector<int32_t> tokens = {1,   67,  400, 339, 53,  493, 386, 303, 198, 222, 438, 226,
                                       248, 252, 56,  354, 439, 237, 325, 410, 85,  285, 292};
  std::vector<float> all, row;
  if (one_by_one) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const BatchEntry e{tokens[i], static_cast<int32_t>(i), 0, true};
      engine->decode(Context::background(), std::span(&e, 1), row);
      all.insert(all.end(), row.begin(), row.end());
    }
    return all;
  }
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i) {
    batch.push_back({tokens[i], static_cast<int32_t>(i), 0, true});
  }
  engine->decode(Context::background(), batch, all);
  return all;
}

// Rows are split over the pool (norms, RoPE, activations, cache stores, attention heads, matmul
// rows), but each is computed the same way whichever thread runs it.
TEST(ForwardThreads, LogitsDoNotDependOnTheThreadCount) {
  INFERENCE_REQUIRE_TESTDATA();
  struct Case {
    const char *dir, *file, *kv;
  };
  for (const Case c :
       {Case{"gemma3", "gemma3-F32.gguf", "f16"}, Case{"qwen2", "qwen2-Q4_K_M.gguf", "f32"},
        Case{"llama", "llama-Q4_K_M.gguf", "f16"}}) {
    // Token by token (decode: only matmul rows and attention heads are split) on one model.
    for (bool one_by_one : {false, true}) {
      if (one_by_one && std::string(c.dir) != "gemma3") continue;
      const auto want = prompt_logits(c.dir, c.file, 1, c.kv, one_by_one);
      ASSERT_FALSE(want.empty());
      EXPECT_EQ(prompt_logits(c.dir, c.file, 2, c.kv, one_by_one), want)
          << c.file << (one_by_one ? " token by token" : " batch");
    }
  }
}

}  // namespace
}  // namespace inference::engine
