// Every SIMD variant of the elementwise ops (kernels/cpu/ops, ops_table.hpp) against the scalar
// reference, on odd sizes (vector tails) and edge values, for every path this CPU runs.
// The variants evaluate the same float operations in the same order as the scalar code (no
// fused multiply-adds, the same 8-lane double sums, the same polynomial exp), so the expected
// result is bit-identical, and that is what is checked. Also: the shared exp against e^x.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/ops/activations.hpp"
#include "kernels/cpu/ops/attention.hpp"
#include "kernels/cpu/ops/fast_exp.hpp"
#include "kernels/cpu/ops/ops_table.hpp"
#include "kernels/cpu/ops/rope.hpp"

namespace inference::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const int64_t kSizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257, 899};

std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Bitwise equality (so -0 vs +0 and NaN payloads count), reporting the first difference.
::testing::AssertionResult same_bits(const std::vector<float>& got,
                                     const std::vector<float>& want) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "size differs";
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure()
             << "element " << i << " of " << got.size() << ": " << got[i] << " vs " << want[i];
    }
  }
  return ::testing::AssertionSuccess();
}

class OpsVariant : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!force_simd_path(GetParam())) GTEST_SKIP() << GetParam() << " not available on this CPU";
    simd_ = &detail::active_ops_table();
  }
  void TearDown() override { force_simd_path(""); }
  const detail::OpsTable* simd_ = nullptr;
  const detail::OpsTable& scalar_ = detail::scalar_ops_table();
};

TEST_P(OpsVariant, TableFollowsTheForcedPath) {
  EXPECT_STREQ(simd_->name, GetParam());
}

TEST_P(OpsVariant, RmsNormIsBitIdentical) {
  std::mt19937 rng(1);
  for (int64_t n : kSizes) {
    const auto x = random_floats(static_cast<size_t>(n), rng, 3.0f);
    const auto w = random_floats(static_cast<size_t>(n), rng, 1.0f);
    for (const float* weight : {w.data(), static_cast<const float*>(nullptr)}) {
      std::vector<float> want(x.size()), got(x.size());
      scalar_.rms_norm_row(x.data(), weight, want.data(), n, 1e-6f);
      simd_->rms_norm_row(x.data(), weight, got.data(), n, 1e-6f);
      EXPECT_TRUE(same_bits(got, want)) << simd_->name << " n " << n;
      std::vector<float> in_place = x;  // x and y may alias
      simd_->rms_norm_row(in_place.data(), weight, in_place.data(), n, 1e-6f);
      EXPECT_TRUE(same_bits(in_place, want)) << simd_->name << " in place, n " << n;
    }
  }
}

TEST_P(OpsVariant, RopeIsBitIdenticalInBothModes) {
  std::mt19937 rng(2);
  struct Shape {
    int32_t head_dim, n_dims, n_heads;
  };
  // Full and partial rotation; pair counts that leave vector tails in both modes.
  for (const Shape s : {Shape{64, 64, 3}, Shape{128, 128, 2}, Shape{80, 32, 2}, Shape{6, 4, 5},
                        Shape{256, 256, 1}, Shape{96, 94, 2}, Shape{40, 18, 3}}) {
    for (bool neox : {false, true}) {
      const std::vector<float> factors = random_floats(static_cast<size_t>(s.n_dims / 2), rng, 1);
      std::vector<float> f(factors.size());
      for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + std::fabs(factors[i]);
      const RopeConfig cfg{s.n_dims, 10000.0f, 0.5f, f.data(), neox};
      std::vector<float> cs(static_cast<size_t>(s.n_dims));
      rope_angles(cfg, 1234, cs.data());
      const auto x = random_floats(static_cast<size_t>(s.head_dim * s.n_heads), rng, 2.0f);
      std::vector<float> want = x, got = x;
      scalar_.rope_apply(cfg, cs.data(), want.data(), s.n_heads, s.head_dim);
      simd_->rope_apply(cfg, cs.data(), got.data(), s.n_heads, s.head_dim);
      EXPECT_TRUE(same_bits(got, want)) << simd_->name << (neox ? " neox" : " normal")
                                        << " head_dim " << s.head_dim << " n_dims " << s.n_dims;
    }
  }
}

TEST_P(OpsVariant, SoftmaxIsBitIdenticalWithMaskedEntries) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t n : kSizes) {
    for (float scale : {0.5f, 8.0f, 60.0f}) {
      auto x = random_floats(static_cast<size_t>(n), rng, scale);
      for (float& v : x) {
        if (u(rng) < 0.2f) v = -kInf;  // masked cells
      }
      std::vector<float> want = x, got = x;
      const double want_log_sum = scalar_.softmax_row(want.data(), n);
      const double got_log_sum = simd_->softmax_row(got.data(), n);
      EXPECT_TRUE(same_bits(got, want)) << simd_->name << " n " << n << " scale " << scale;
      EXPECT_EQ(got_log_sum, want_log_sum) << simd_->name << " n " << n << " scale " << scale;
    }
    std::vector<float> all_masked(static_cast<size_t>(n), -kInf);
    EXPECT_EQ(simd_->softmax_row(all_masked.data(), n), -kInf);
    EXPECT_TRUE(same_bits(all_masked, std::vector<float>(static_cast<size_t>(n), 0.0f)));
  }
}

TEST_P(OpsVariant, GatedActivationsAreBitIdentical) {
  std::mt19937 rng(4);
  // Around the GELU table's cut-offs, exp's clamps and overflow, zeros of both signs.
  const std::vector<float> edges = {-10.0f, 10.0f,  -10.001f, 9.999f, -120.0f, 120.0f,  -88.8f,
                                    88.8f,  -87.4f, 0.0f,     -0.0f,  1e-8f,   -1e-30f, 65520.0f};
  for (int64_t n : kSizes) {
    auto gate = random_floats(static_cast<size_t>(n), rng, 4.0f);
    const auto up = random_floats(static_cast<size_t>(n), rng, 2.0f);
    for (size_t i = 0; i < gate.size() && i < edges.size(); ++i)
      gate[(i * 7) % gate.size()] = edges[i];
    for (auto fn : {&detail::OpsTable::swiglu, &detail::OpsTable::geglu}) {
      std::vector<float> want(gate.size()), got(gate.size());
      (scalar_.*fn)(gate.data(), up.data(), want.data(), n);
      (simd_->*fn)(gate.data(), up.data(), got.data(), n);
      EXPECT_TRUE(same_bits(got, want)) << simd_->name << " n " << n;
      std::vector<float> aliased = gate;  // out may alias gate
      (simd_->*fn)(aliased.data(), up.data(), aliased.data(), n);
      EXPECT_TRUE(same_bits(aliased, want)) << simd_->name << " aliased, n " << n;
    }
  }
}

TEST_P(OpsVariant, AttentionValuesAreBitIdentical) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int32_t head_dim : {4, 8, 12, 16, 24, 64, 72, 80, 128, 256}) {
    for (bool f16 : {false, true}) {
      const int32_t n_cells = 37, stride = head_dim + 3;
      const auto v32 = random_floats(static_cast<size_t>(n_cells * stride), rng, 1.0f);
      std::vector<uint16_t> v16(v32.size());
      for (size_t i = 0; i < v32.size(); ++i) v16[i] = fp32_to_fp16(v32[i]);
      std::vector<float> weights(static_cast<size_t>(n_cells));
      for (float& w : weights) w = u(rng) < 0.3f ? 0.0f : u(rng) / n_cells;
      std::vector<int32_t> pos(static_cast<size_t>(n_cells), 0);
      KvHeadView kv;
      kv.v = f16 ? static_cast<const void*>(v16.data()) : v32.data();
      kv.f16 = f16;
      kv.cell_stride = stride;
      kv.cell_pos = pos.data();
      kv.n_cells = n_cells;
      kv.first_cell = 11;  // a ring: cells are visited from 11 on, wrapping
      std::vector<float> want(static_cast<size_t>(head_dim)), got(want.size(), 123.0f);
      scalar_.attention_values(weights.data(), kv, head_dim, want.data());
      simd_->attention_values(weights.data(), kv, head_dim, got.data());
      EXPECT_TRUE(same_bits(got, want))
          << simd_->name << " head_dim " << head_dim << " f16 " << f16;
    }
  }
}

TEST_P(OpsVariant, RoundToF16IsBitIdentical) {
  std::mt19937 rng(6);
  for (int64_t n : kSizes) {
    auto x = random_floats(static_cast<size_t>(n), rng, 1000.0f);
    x[0] = 65520.0f;  // rounds to infinity
    std::vector<uint16_t> want(x.size()), got(x.size());
    scalar_.round_to_f16(x.data(), want.data(), n);
    simd_->round_to_f16(x.data(), got.data(), n);
    EXPECT_EQ(got, want) << simd_->name << " n " << n;
  }
}

// The whole head: only the q.k dot products (the matmul kernels of this path, which sum in a
// different order than the scalar dot) may differ, so the output is close, not identical:
// q.k rounding ~1e-7 relative, through the softmax, on outputs of magnitude ~1.
TEST_P(OpsVariant, AttendHeadMatchesScalarPath) {
  std::mt19937 rng(7);
  const int32_t head_dim = 64, n_cells = 50;
  const auto q = random_floats(head_dim, rng, 1.0f);
  const auto k = random_floats(static_cast<size_t>(head_dim * n_cells), rng, 1.0f);
  const auto v = random_floats(static_cast<size_t>(head_dim * n_cells), rng, 1.0f);
  std::vector<uint16_t> k16(k.size()), v16(v.size());
  for (size_t i = 0; i < k.size(); ++i) k16[i] = fp32_to_fp16(k[i]), v16[i] = fp32_to_fp16(v[i]);
  std::vector<int32_t> pos(n_cells);
  for (int32_t i = 0; i < n_cells; ++i) pos[static_cast<size_t>(i)] = i;
  for (bool f16 : {false, true}) {
    KvHeadView kv{f16 ? static_cast<const void*>(k16.data()) : k.data(),
                  f16 ? static_cast<const void*>(v16.data()) : v.data(),
                  f16,
                  head_dim,
                  pos.data(),
                  n_cells,
                  0};
    std::vector<float> scores(n_cells), qr(head_dim), got(head_dim), want(head_dim);
    attend_head(q.data(), head_dim, kv, {45, 20}, 0.125f, scores.data(), qr.data(), got.data());
    ASSERT_TRUE(force_simd_path("scalar"));
    attend_head(q.data(), head_dim, kv, {45, 20}, 0.125f, scores.data(), qr.data(), want.data());
    ASSERT_TRUE(force_simd_path(GetParam()));
    for (int32_t d = 0; d < head_dim; ++d) EXPECT_NEAR(got[d], want[d], 1e-5) << d;
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, OpsVariant, ::testing::Values("scalar", "avx2", "avx512"),
                         [](const auto& info) { return std::string(info.param); });

TEST(FastExp, WithinAFewUlpsOfExp) {
  double worst = 0;
  for (float x = -87.0f; x <= 88.5f; x += 0.0137f) {
    const double want = std::exp(static_cast<double>(x));
    const double rel = std::fabs(detail::exp_approx(x) - want) / want;
    worst = rel > worst ? rel : worst;
  }
  EXPECT_LT(worst, 4.0 * std::numeric_limits<float>::epsilon()) << worst;
  EXPECT_EQ(detail::exp_approx(0.0f), 1.0f);
  EXPECT_EQ(detail::exp_approx(-kInf), 0.0f);
  EXPECT_EQ(detail::exp_approx(-200.0f), 0.0f);
  EXPECT_EQ(detail::exp_approx(88.8f), kInf);  // beyond FLT_MAX
  EXPECT_EQ(detail::exp_approx(kInf), kInf);
  EXPECT_TRUE(std::isfinite(detail::exp_approx(88.7f)));
  EXPECT_GT(detail::exp_approx(-100.0f), 0.0f);  // gradual underflow: e^-100 ~ 3.7e-44
  EXPECT_TRUE(std::isnan(detail::exp_approx(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FastExp, SiluUsesIt) {
  for (float x : {-30.0f, -1.0f, 0.5f, 20.0f}) {
    EXPECT_EQ(silu(x), x / (1.0f + detail::exp_approx(-x)));
    EXPECT_NEAR(silu(x), x / (1.0 + std::exp(-static_cast<double>(x))), 1e-6 * (1 + std::fabs(x)));
  }
}

}  // namespace
}  // namespace inference::kernels
