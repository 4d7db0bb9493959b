// Fixed matmul paths (MatmulPath::decode / prompt): a row's result does not depend on how many
// other rows share the call — what continuous batching relies on for "same request, same
// tokens, whatever else is in the batch". For every weight type and SIMD path this CPU runs:
// rows of a batch on the decode path give the bits of a one-row automatic matmul (a lone
// decode), also beyond the GEMM threshold; rows on the prompt path give the bits of the same row
// alone on the prompt path.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>

#include "inference/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::kernels {
namespace {

struct Weights {
  GgmlType type;
  int64_t rows, cols;
  std::vector<uint8_t> data;
  WeightView view() const { return {type, data.data(), rows, cols, test::row_bytes(type, cols)}; }
};

std::vector<float> product(ThreadPool& pool, const Weights& w, const float* x, int64_t n,
                           MatmulPath path) {
  std::vector<uint8_t> scratch(
      std::max(activation_scratch_bytes(w.type, w.cols, n, path), size_t{1}));
  std::vector<float> y(static_cast<size_t>(n * w.rows), -7.f);
  matmul(pool, w.view(), x, w.cols, n, y.data(), w.rows, scratch.data(), path);
  return y;
}

bool same_bits(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)) == 0;
}

TEST(MatmulPath, EveryRowGetsTheBitsItGetsAloneOnItsPath) {
  constexpr int64_t kRows = 48, kCols = 512, kTokens = 21;  // above every GEMM threshold
  ThreadPool pool(2);
  int checked_paths = 0;
  for (const char* simd : {"scalar", "avx2", "avx512"}) {
    if (!force_simd_path(simd)) continue;
    ++checked_paths;
    for (GgmlType type : test::supported_types()) {
      SCOPED_TRACE(std::string(simd) + " type " + std::to_string(static_cast<int>(type)));
      std::mt19937 rng(7 + static_cast<unsigned>(type));
      Weights w{type, kRows, kCols, {}};
      for (int64_t r = 0; r < kRows; ++r) {
        const auto row = test::random_row(type, kCols, rng);
        w.data.insert(w.data.end(), row.begin(), row.end());
      }
      const auto x = test::random_floats(kTokens * kCols, rng);
      const auto decode = product(pool, w, x.data(), kTokens, MatmulPath::decode);
      const auto prompt = product(pool, w, x.data(), kTokens, MatmulPath::prompt);
      for (int64_t t = 0; t < kTokens; ++t) {
        const float* xt = x.data() + t * kCols;
        const auto lone = product(pool, w, xt, 1, MatmulPath::automatic);
        EXPECT_TRUE(same_bits(decode.data() + t * kRows, lone.data(), kRows)) << "decode row " << t;
        const auto lone_prompt = product(pool, w, xt, 1, MatmulPath::prompt);
        EXPECT_TRUE(same_bits(prompt.data() + t * kRows, lone_prompt.data(), kRows))
            << "prompt row " << t;
      }
      // A prompt chunk of another size (one GEMM token tile and a bit) agrees as well.
      const auto part = product(pool, w, x.data() + 3 * kCols, 9, MatmulPath::prompt);
      EXPECT_TRUE(same_bits(part.data(), prompt.data() + 3 * kRows, 9 * kRows));
    }
  }
  force_simd_path("");
  EXPECT_GT(checked_paths, 0);
}

// The packed forms' size (kernels/cpu/packed_panel.hpp) over the byte panels' (AVX2's): a quant
// is 1 byte and a group of 32 carries two floats there (1.25 bytes per weight; Q6_K's groups of
// 16, 1.5).
double packed_share_of_byte_panels(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return (0.5 + 0.125) / 1.25;  // nibbles, a scale (the min derived)
    case GgmlType::Q5_0:
      return (0.5 + 0.125 + 0.125) / 1.25;  // + fifth bits
    case GgmlType::Q4_1:
    case GgmlType::Q4_K:
      return (0.5 + 0.25) / 1.25;  // nibbles, scale and min
    case GgmlType::Q5_1:
    case GgmlType::Q5_K:
      return (0.5 + 0.125 + 0.25) / 1.25;
    case GgmlType::Q8_0:
      return (1 + 0.125) / 1.25;  // bytes, a scale
    case GgmlType::Q6_K:
      return (1 + 0.25) / 1.5;
    default:
      return 1;
  }
}

// Packed weights (PackedWeight, what training keeps resident) give the prompt path's bits, for
// every type with a panel form on every SIMD level that has the panel GEMM, with more rows than
// one panel holds and uneven token counts; types without one are refused (null), and a packed
// weight used on a level without the panel GEMM is an error, not a wrong product.
TEST(MatmulPath, PackedWeightsGiveThePromptPathsBits) {
  constexpr int64_t kRows = 600, kCols = 1024;  // 600 rows: several panels and a partial one
  ThreadPool pool(2);
  int packed_types = 0;
  std::map<GgmlType, size_t> byte_panel_bytes;
  for (const char* simd : {"scalar", "avx2", "avx512"}) {
    if (!force_simd_path(simd)) continue;
    for (GgmlType type : test::supported_types()) {
      SCOPED_TRACE(std::string(simd) + " type " + std::to_string(static_cast<int>(type)));
      std::mt19937 rng(11 + static_cast<unsigned>(type));
      Weights w{type, kRows, kCols, {}};
      for (int64_t r = 0; r < kRows; ++r) {
        const auto row = test::random_row(type, kCols, rng);
        w.data.insert(w.data.end(), row.begin(), row.end());
      }
      const auto packed = PackedWeight::pack(pool, w.view());
      if (!packed) continue;
      ++packed_types;
      EXPECT_EQ(packed->rows(), kRows);
      EXPECT_EQ(packed->cols(), kCols);
      EXPECT_GE(packed->bytes(), static_cast<size_t>(kRows * kCols / 2));  // a nibble a weight
      if (std::string(simd) == "avx2") byte_panel_bytes[type] = packed->bytes();
      if (std::string(simd) == "avx512" && byte_panel_bytes.count(type) != 0) {
        // AVX-512 keeps the smaller packed forms: the bits checked below are those forms', not
        // a byte fallback's.
        EXPECT_LE(static_cast<double>(packed->bytes()) / byte_panel_bytes[type],
                  packed_share_of_byte_panels(type) + 0.01);
      }
      for (int64_t n : {1, 5, 19}) {
        const auto x = test::random_floats(n * kCols, rng);
        const auto want = product(pool, w, x.data(), n, MatmulPath::prompt);
        std::vector<uint8_t> scratch(activation_scratch_bytes(type, kCols, n, MatmulPath::prompt));
        std::vector<float> got(static_cast<size_t>(n * kRows), -7.f);
        matmul_packed(pool, *packed, x.data(), kCols, n, got.data(), kRows, scratch.data());
        EXPECT_TRUE(same_bits(got.data(), want.data(), n * kRows)) << n << " tokens";
      }
      if (force_simd_path("scalar")) {
        std::vector<float> x(static_cast<size_t>(kCols), 1.f), y(static_cast<size_t>(kRows));
        std::vector<uint8_t> scratch(activation_scratch_bytes(type, kCols, 1, MatmulPath::prompt));
        EXPECT_THROW(
            matmul_packed(pool, *packed, x.data(), kCols, 1, y.data(), kRows, scratch.data()),
            Error);
        force_simd_path(simd);
      }
    }
    EXPECT_FALSE(PackedWeight::pack(pool, {GgmlType::F32, nullptr, 16, 32, 128}));
  }
  force_simd_path("");
  // Any x86-64 CPU this runs on has AVX2, whose panel GEMM covers the common formats.
  EXPECT_GT(packed_types, 0);
}

}  // namespace
}  // namespace inference::kernels
