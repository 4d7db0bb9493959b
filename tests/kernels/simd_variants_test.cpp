// Every SIMD variant this CPU can run against the scalar reference, for every weight type: the
// single-row dot, the multi-token tile, and whole matmuls. Integer block sums are exact in every
// variant; what may differ is the float summation order across blocks (and lanes), bounded
// relative to the sum of |products|.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "kernel_test_util.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

class SimdVariant : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!force_simd_path(GetParam())) GTEST_SKIP() << GetParam() << " not available on this CPU";
  }
  void TearDown() override { force_simd_path(""); }
};

double abs_dot(GgmlType type, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a,
               int64_t n) {
  std::vector<float> wf(static_cast<size_t>(n));
  dequantize_row(type, w.data(), wf.data(), n);
  const auto af = test::dequantize_activation(activation_type(type), a.data(), n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(wf[i]) * af[i]);
  return s;
}

TEST_P(SimdVariant, DotMatchesScalarForEveryType) {
  const detail::KernelTable& simd = detail::active_kernel_table();
  const detail::KernelTable& scalar = detail::scalar_kernel_table();
  std::mt19937 rng(11);
  for (GgmlType type : test::supported_types()) {
    const int id = static_cast<int>(type);
    ASSERT_NE(simd.dot[id], nullptr) << simd.name << " type " << id;
    for (int64_t n : {256, 512, 768, 4096, 2816}) {
      const auto w = test::random_row(type, n, rng);
      const auto x = test::random_floats(n, rng, 3.f);
      const auto a = test::quantize_activation_for(type, x.data(), n);
      const float want = scalar.dot[id](n, w.data(), a.data());
      const float got = simd.dot[id](n, w.data(), a.data());
      EXPECT_NEAR(got, want, 2e-6 * abs_dot(type, w, a, n))
          << simd.name << " type " << id << " n " << n;
    }
  }
}

TEST_P(SimdVariant, MultiTokenTileEqualsSingleDot) {
  const detail::KernelTable& simd = detail::active_kernel_table();
  std::mt19937 rng(12);
  const int64_t n = 1024;
  for (GgmlType type : test::supported_types()) {
    const int id = static_cast<int>(type);
    if (simd.dot_multi[id] == nullptr) continue;
    const auto w = test::random_row(type, n, rng);
    std::vector<uint8_t> acts;
    const size_t stride = test::row_bytes(activation_type(type), n);
    for (int t = 0; t < detail::kMaxTileTokens; ++t) {
      const auto x = test::random_floats(n, rng);
      const auto a = test::quantize_activation_for(type, x.data(), n);
      acts.insert(acts.end(), a.begin(), a.end());
    }
    for (int nt = 1; nt <= detail::kMaxTileTokens; ++nt) {
      float out[detail::kMaxTileTokens];
      simd.dot_multi[id](n, w.data(), acts.data(), stride, nt, out);
      for (int t = 0; t < nt; ++t) {
        EXPECT_EQ(out[t], simd.dot[id](n, w.data(), acts.data() + t * stride))
            << simd.name << " type " << id << " nt " << nt << " t " << t;
      }
    }
  }
}

TEST_P(SimdVariant, KQuantsAreBitIdenticalToScalar) {
  // Their block sums are exact integers combined by the same float expression, block by block.
  const detail::KernelTable& simd = detail::active_kernel_table();
  std::mt19937 rng(13);
  for (GgmlType type :
       {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q2_K, GgmlType::Q3_K}) {
    const int id = static_cast<int>(type);
    for (int64_t n : {256, 2048, 8192}) {
      const auto w = test::random_row(type, n, rng);
      const auto x = test::random_floats(n, rng);
      const auto a = test::quantize_activation_for(type, x.data(), n);
      EXPECT_EQ(simd.dot[id](n, w.data(), a.data()),
                detail::scalar_kernel_table().dot[id](n, w.data(), a.data()))
          << simd.name << " type " << id << " n " << n;
    }
  }
}

// The K-quant row-vector kernels (decode) sum in another order than the dot products: equal to
// the scalar reference within the float bound, for every tile size, token by token identical to
// a one-token call (so batched decode gives single-decode bits).
TEST_P(SimdVariant, KQuantRowKernelsMatchScalarAndTileSize) {
  const detail::KernelTable& simd = detail::active_kernel_table();
  const detail::KernelTable& scalar = detail::scalar_kernel_table();
  std::mt19937 rng(15);
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const int id = static_cast<int>(type);
    if (simd.gemv_k[id] == nullptr) continue;
    // 768: a pair of super-blocks then a last one alone (scales unpack two at a time)
    for (int64_t n : {256, 768, 2048, 8192}) {
      const int64_t rows = 5, n_tokens = 7;
      const size_t rb = test::row_bytes(type, n);
      std::vector<uint8_t> w;
      for (int64_t r = 0; r < rows; ++r) {
        const auto row = test::random_row(type, n, rng);
        w.insert(w.end(), row.begin(), row.end());
      }
      const size_t stride = test::row_bytes(activation_type(type), n);
      std::vector<uint8_t> acts;
      for (int64_t t = 0; t < n_tokens; ++t) {
        const auto x = test::random_floats(n, rng, 3.f);
        const auto a = test::quantize_activation_for(type, x.data(), n);
        acts.insert(acts.end(), a.begin(), a.end());
      }
      std::vector<float> batch(static_cast<size_t>(rows * n_tokens));
      simd.gemv_k[id](w.data(), rb, rows, n, reinterpret_cast<const std::byte*>(acts.data()),
                      stride, n_tokens, batch.data(), rows);
      for (int64_t t = 0; t < n_tokens; ++t) {
        const auto* at = reinterpret_cast<const std::byte*>(acts.data() + t * stride);
        std::vector<float> single(static_cast<size_t>(rows));
        simd.gemv_k[id](w.data(), rb, rows, n, at, stride, 1, single.data(), rows);
        for (int64_t r = 0; r < rows; ++r) {
          const std::vector<uint8_t> wr(w.begin() + r * rb, w.begin() + (r + 1) * rb);
          const std::vector<uint8_t> ar(acts.begin() + t * stride, acts.begin() + (t + 1) * stride);
          const float want = scalar.dot[id](n, wr.data(), ar.data());
          EXPECT_EQ(batch[t * rows + r], single[r]) << simd.name << " type " << id << " n " << n;
          EXPECT_NEAR(single[r], want, 2e-6 * abs_dot(type, wr, ar, n))
              << simd.name << " type " << id << " n " << n << " row " << r << " token " << t;
        }
      }
    }
  }
}

TEST_P(SimdVariant, MatmulTilesEqualSingleTokens) {
  std::mt19937 rng(14);
  ThreadPool pool(2);
  const int64_t rows = 19, cols = 512, n_tokens = 6;
  for (GgmlType type : test::supported_types()) {
    std::vector<uint8_t> wbytes;
    for (int64_t r = 0; r < rows; ++r) {
      const auto row = test::random_row(type, cols, rng);
      wbytes.insert(wbytes.end(), row.begin(), row.end());
    }
    const WeightView w{type, wbytes.data(), rows, cols, test::row_bytes(type, cols)};
    const auto x = test::random_floats(n_tokens * cols, rng);
    std::vector<uint8_t> scratch(activation_scratch_bytes(type, cols, n_tokens) + 1);
    std::vector<float> batch(rows * n_tokens), single(rows);
    matmul(pool, w, x.data(), cols, n_tokens, batch.data(), rows, scratch.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      matmul(pool, w, x.data() + t * cols, cols, 1, single.data(), rows, scratch.data());
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(single[r], batch[t * rows + r])
            << GetParam() << " type " << static_cast<int>(type);
      }
    }
  }
}

// The row kernels narrow sums of four quant × activation products to int16 (exact while they
// fit): the largest quants against activations of -128 everywhere, with the largest scales of
// both signs, must still give the scalar reference's result.
TEST_P(SimdVariant, KQuantRowKernelsAtTheLargestQuantsAndActivations) {
  const detail::KernelTable& simd = detail::active_kernel_table();
  const detail::KernelTable& scalar = detail::scalar_kernel_table();
  const int64_t n = 1024;
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const int id = static_cast<int>(type);
    if (simd.gemv_k[id] == nullptr) continue;
    const size_t rb = test::row_bytes(type, n), block = rb / (n / 256);
    std::vector<uint8_t> w(rb, 0xFF);  // every quant, scale and min at its largest
    for (size_t b = 0; b < rb; b += block) {
      if (type == GgmlType::Q6_K) {
        for (int s = 0; s < 16; s += 2) w[b + 192 + s] = 0x80;  // scales -128 and -1 (0xFF)
        w[b + 208] = 0x00;                                      // d = 1.0 (fp16 0x3C00)
        w[b + 209] = 0x3C;
      } else {
        w[b] = w[b + 2] = 0x00;  // d = dmin = 1.0
        w[b + 1] = w[b + 3] = 0x3C;
      }
    }
    // Equal positive inputs quantise to -128 everywhere (the Q8_K scale is negative).
    const std::vector<float> x(static_cast<size_t>(n), 1.0f);
    const auto a = test::quantize_activation_for(type, x.data(), n);
    const auto af = test::dequantize_activation(activation_type(type), a.data(), n);
    ASSERT_FLOAT_EQ(af[0], 1.0f);
    float got = 0;
    simd.gemv_k[id](w.data(), rb, 1, n, reinterpret_cast<const std::byte*>(a.data()), a.size(), 1,
                    &got, 1);
    const float want = scalar.dot[id](n, w.data(), a.data());
    EXPECT_NEAR(got, want, 2e-6 * abs_dot(type, w, a, n)) << GetParam() << " type " << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, SimdVariant, ::testing::Values("scalar", "avx2", "avx512"),
                         [](const auto& info) { return std::string(info.param); });

TEST(SimdDispatch, NamesAndForcing) {
  const std::string automatic = simd_path_name();
  EXPECT_FALSE(automatic.empty());
  EXPECT_TRUE(force_simd_path("scalar"));
  EXPECT_STREQ(simd_path_name(), "scalar");
  EXPECT_FALSE(force_simd_path("neon-on-x86-does-not-exist"));
  EXPECT_STREQ(simd_path_name(), "scalar");  // a failed force changes nothing
  EXPECT_TRUE(force_simd_path(""));
  EXPECT_EQ(automatic, simd_path_name());
}

}  // namespace
}  // namespace inference::kernels
