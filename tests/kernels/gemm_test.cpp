// The prefill GEMM (weight panels, gemm_*.cpp) and the decode row-vector kernels (gemv_*.cpp):
// for every weight type, large (panel path) and small (row-vector or dot-tile path) batches
// equal the exact product of the quantised weights and quantised activations within float
// rounding, for every SIMD path this CPU runs (paths without these kernels use the dot tiles:
// the same test holds for them), and give the same bits for any thread count and any batch of
// the same path a token is part of.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "kernel_test_util.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemm_panel.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

std::vector<GgmlType> panel_types() {
  std::vector<GgmlType> types;
  for (GgmlType t : test::supported_types()) {
    if (detail::panel_group(t) != 0) types.push_back(t);
  }
  return types;
}

struct Case {
  GgmlType type;
  int64_t rows, cols;
  std::vector<uint8_t> w;
  std::vector<float> x;
};

Case make_case(GgmlType type, int64_t rows, int64_t cols, int64_t n_tokens, std::mt19937& rng) {
  Case c{type, rows, cols, {}, test::random_floats(n_tokens * cols, rng)};
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = test::random_row(type, cols, rng);
    c.w.insert(c.w.end(), row.begin(), row.end());
  }
  return c;
}

std::vector<float> run(ThreadPool& pool, const Case& c, int64_t first_token, int64_t n_tokens,
                       int64_t y_stride) {
  const WeightView w{c.type, c.w.data(), c.rows, c.cols, test::row_bytes(c.type, c.cols)};
  std::vector<uint8_t> scratch(activation_scratch_bytes(c.type, c.cols, n_tokens) + 1);
  std::vector<float> y(static_cast<size_t>(n_tokens * y_stride), -7.f);
  matmul(pool, w, c.x.data() + first_token * c.cols, c.cols, n_tokens, y.data(), y_stride,
         scratch.data());
  return y;
}

// float64 product of the dequantised weight row and the dequantised activation row: what every
// kernel computes up to float rounding. Returns {value, sum of |products|}. For Q4_1/Q5_1 the
// kernels use, like the reference, the Q8_1 activation's stored s (d * sum of quants, rounded to
// F16) in the min term m * s, so the exact value does too.
std::pair<double, double> exact(const Case& c, int64_t row, int64_t token) {
  std::vector<float> wf(static_cast<size_t>(c.cols));
  const size_t rb = test::row_bytes(c.type, c.cols);
  dequantize_row(c.type, c.w.data() + row * rb, wf.data(), c.cols);
  const auto a = test::quantize_activation_for(c.type, c.x.data() + token * c.cols, c.cols);
  const auto af = test::dequantize_activation(activation_type(c.type), a.data(), c.cols);
  double v = 0, m = 0;
  for (int64_t i = 0; i < c.cols; ++i) {
    v += static_cast<double>(wf[i]) * af[i];
    m += std::fabs(static_cast<double>(wf[i]) * af[i]);
  }
  if (c.type == GgmlType::Q4_1 || c.type == GgmlType::Q5_1) {
    const size_t wblock = c.type == GgmlType::Q4_1 ? 20 : 24;
    for (int64_t b = 0; b < c.cols / 32; ++b) {
      uint16_t mh, sh;
      std::memcpy(&mh, c.w.data() + row * rb + b * wblock + 2, 2);  // {d, m, ...}
      std::memcpy(&sh, a.data() + b * 36 + 2, 2);                   // Q8_1 {d, s, qs[32]}
      double block_sum = 0;
      for (int i = 0; i < 32; ++i) block_sum += af[static_cast<size_t>(32 * b + i)];
      v += static_cast<double>(fp16_to_fp32(mh)) * (fp16_to_fp32(sh) - block_sum);
    }
  }
  return {v, m};
}

// Every row of every token of `y` (y_stride apart) within float rounding of the exact product
// (2e-6 of the sum of |products|), and the padding between rows untouched.
void expect_exact(const Case& c, const std::vector<float>& y, int64_t n_tokens, int64_t y_stride,
                  const char* path) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < c.rows; ++r) {
      const auto [want, magnitude] = exact(c, r, t);
      ASSERT_NEAR(y[t * y_stride + r], want, 2e-6 * magnitude + 1e-30)
          << path << " type " << static_cast<int>(c.type) << " cols " << c.cols << " row " << r
          << " token " << t;
    }
    for (int64_t r = c.rows; r < y_stride; ++r) ASSERT_EQ(y[t * y_stride + r], -7.f);
  }
}

class GemmPath : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!force_simd_path(GetParam())) GTEST_SKIP() << GetParam() << " not available on this CPU";
  }
  void TearDown() override { force_simd_path(""); }
};

TEST_P(GemmPath, LargeBatchEqualsExactProductForEveryPanelType) {
  std::mt19937 rng(21);
  ThreadPool pool(2);
  // 37 rows: two full sub-panels and a partial one; 40 tokens: full and partial token tiles.
  const int64_t rows = 37, n_tokens = 40, y_stride = rows + 3;
  for (GgmlType type : panel_types()) {
    for (int64_t cols : {512, 768}) {
      const Case c = make_case(type, rows, cols, n_tokens, rng);
      const auto y = run(pool, c, 0, n_tokens, y_stride);
      expect_exact(c, y, n_tokens, y_stride, GetParam());
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(GemmPath, SameBitsForAnyThreadCountAndBatch) {
  std::mt19937 rng(22);
  ThreadPool one(1), two(2), three(3);
  const int64_t rows = 300, cols = 512, n_tokens = 45;
  for (GgmlType type : panel_types()) {
    const Case c = make_case(type, rows, cols, n_tokens, rng);
    const auto want = run(two, c, 0, n_tokens, rows);
    EXPECT_EQ(run(one, c, 0, n_tokens, rows), want) << static_cast<int>(type);
    EXPECT_EQ(run(three, c, 0, n_tokens, rows), want) << static_cast<int>(type);
    // A smaller batch of some of the same tokens, still large enough for the panel path.
    const int64_t first = 5, n = detail::gemm_min_tokens(type) + 3;
    const auto part = run(two, c, first, n, rows);
    for (int64_t i = 0; i < n * rows; ++i) {
      ASSERT_EQ(part[i], want[first * rows + i]) << static_cast<int>(type) << " at " << i;
    }
  }
}

TEST_P(GemmPath, SmallBatchesEqualExactProductForEveryType) {
  // Decode-sized batches: the row-vector kernels (Q8_0/Q5_0/Q4_0 on AVX-512, Q5_0/Q4_0 on AVX2)
  // or the dot tiles. Block counts that are not a multiple of the kernels' 16- and 8-block steps,
  // odd and even.
  std::mt19937 rng(24);
  ThreadPool pool(2);
  const int64_t rows = 21, y_stride = rows + 2;
  for (GgmlType type : test::supported_types()) {
    if (type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16) continue;
    const bool k_quant = type == GgmlType::Q2_K || type == GgmlType::Q3_K ||
                         type == GgmlType::Q4_K || type == GgmlType::Q5_K || type == GgmlType::Q6_K;
    for (int64_t cols :
         k_quant ? std::vector<int64_t>{256, 768} : std::vector<int64_t>{96, 544, 1024}) {
      // 2, 3, 5 and 8 cover every token count per unpacked row of the row-vector kernels.
      for (int64_t n_tokens : {1, 2, 3, 5, 8}) {
        const Case c = make_case(type, rows, cols, n_tokens, rng);
        const auto y = run(pool, c, 0, n_tokens, y_stride);
        expect_exact(c, y, n_tokens, y_stride, GetParam());
        if (HasFatalFailure()) return;
        // A token alone gives the same bits as within a small batch.
        for (int64_t t = 0; t < n_tokens && n_tokens > 1; ++t) {
          const auto single = run(pool, c, t, 1, y_stride);
          for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(single[r], y[t * y_stride + r]);
        }
      }
    }
  }
}

// The row kernels multiply unsigned weight quants by signed activation quants in pairs summed to
// int16 (vpmaddubsw on AVX2): the largest quants of every 32-element type against the largest
// activations of both signs must not saturate.
TEST_P(GemmPath, SmallBatchesAtTheLargestQuantsAndActivations) {
  ThreadPool pool(2);
  const int64_t rows = 3, cols = 544;
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0}) {
    const size_t rb = test::row_bytes(type, cols), block = rb / (cols / 32);
    Case c{type, rows, cols, std::vector<uint8_t>(rb * rows, 0xFF), {}};
    for (size_t b = 0; b < c.w.size(); b += block) {
      c.w[b] = 0x00;  // d = 1.0 (fp16 0x3C00); every quant at its largest (Q8_0: -1)
      c.w[b + 1] = 0x3C;
      if (type == GgmlType::Q8_0) std::memset(&c.w[b + 2], 0x7F, 32);  // Q8_0: +127
    }
    for (float sign : {1.f, -1.f}) {
      c.x.assign(static_cast<size_t>(2 * cols), sign);  // quantise to ±127 everywhere
      const auto y = run(pool, c, 0, 2, rows);
      expect_exact(c, y, 2, rows, GetParam());
      if (HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, GemmPath, ::testing::Values("scalar", "avx2", "avx512"),
                         [](const auto& info) { return std::string(info.param); });

TEST(GemmPanel, UnpackedPanelDequantisesLikeTheFormat) {
  // scale * q - min of every panel element equals dequantize_row's value (within one rounding:
  // Q6_K dequantises as (d*sc) * (q-32), the panel as (d*sc)*q - 32*(d*sc)).
  std::mt19937 rng(23);
  const int64_t rows = 21, cols = 512;
  for (GgmlType type : panel_types()) {
    const Case c = make_case(type, rows, cols, 1, rng);
    const size_t rb = test::row_bytes(type, cols);
    std::vector<std::byte> memory(detail::panel_bytes(type, rows, cols) + 64);
    void* aligned = memory.data() + (64 - reinterpret_cast<uintptr_t>(memory.data()) % 64) % 64;
    detail::Panel p = detail::make_panel(type, rows, cols, aligned);
    detail::unpack_panel(type, c.w.data(), rb, rows, cols, p);
    std::vector<float> want(static_cast<size_t>(cols));
    for (int64_t r = 0; r < 32; ++r) {  // includes the zero padding rows 21..31
      if (r < rows) dequantize_row(type, c.w.data() + r * rb, want.data(), cols);
      const int64_t sub = r / 16, lane = r % 16;
      for (int64_t i = 0; i < cols; ++i) {
        const int64_t g = i / p.group, k = (i % p.group) / 4;
        const uint8_t q =
            p.quants[((sub * p.groups + g) * p.group / 4 + k) * 64 + lane * 4 + i % 4];
        const float s = p.scale[(sub * p.groups + g) * 16 + lane];
        const float m = p.min[(sub * p.groups + g) * 16 + lane];
        const float got = s * static_cast<float>(q) - m;
        if (r >= rows) {
          ASSERT_EQ(got, 0.f);
        } else {
          ASSERT_NEAR(got, want[static_cast<size_t>(i)],
                      1e-6f * std::fabs(m) + 1e-7f * std::fabs(want[static_cast<size_t>(i)]))
              << "type " << static_cast<int>(type) << " row " << r << " col " << i;
        }
      }
    }
  }
}

TEST(GemmPanel, SimdUnpackEqualsScalarUnpack) {
  std::mt19937 rng(25);
  const int64_t rows = 21, cols = 768;
  for (const char* path : {"avx2", "avx512"}) {
    if (!force_simd_path(path)) continue;
    const detail::KernelTable& table = detail::active_kernel_table();
    for (GgmlType type : panel_types()) {
      const detail::PanelUnpackFn simd = table.unpack_panel[static_cast<int>(type)];
      if (simd == nullptr) continue;
      const Case c = make_case(type, rows, cols, 1, rng);
      const size_t rb = test::row_bytes(type, cols), bytes = detail::panel_bytes(type, rows, cols);
      std::vector<std::byte> a(bytes + 64, std::byte{0x5A}), b(bytes + 64, std::byte{0xA5});
      auto aligned = [](std::vector<std::byte>& v) {
        return v.data() + (64 - reinterpret_cast<uintptr_t>(v.data()) % 64) % 64;
      };
      std::byte* pa = aligned(a);
      std::byte* pb = aligned(b);
      detail::Panel scalar = detail::make_panel(type, rows, cols, pa);
      detail::Panel vector = detail::make_panel(type, rows, cols, pb);
      detail::unpack_panel(type, c.w.data(), rb, rows, cols, scalar);
      simd(type, c.w.data(), rb, rows, cols, vector);
      // Every quant (padding rows included) and every scale and min.
      EXPECT_EQ(std::memcmp(pa, pb, bytes), 0) << path << " type " << static_cast<int>(type);
    }
  }
  force_simd_path("");
}

}  // namespace
}  // namespace inference::kernels
