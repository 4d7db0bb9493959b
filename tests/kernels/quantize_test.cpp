// Reference quantisers against llama.cpp's: quantising testdata/quant/source/<group>.f32 must
// give the exact blocks llama-quantize wrote into testdata/quant/<TYPE>.gguf. Formats without
// reference data (Q4_1, Q5_0, Q5_1) are checked by round trip error bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "inference/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/cpu/quantize.hpp"
#include "reference_quant.hpp"
#include "support/testdata.hpp"

namespace inference::kernels {
namespace {

using inference::test::read_file;
using inference::test::testdata_dir;

class QuantizeReference : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeReference, BlocksEqualLlamaQuantize) {
  INFERENCE_REQUIRE_TESTDATA();
  const std::string type_name = GetParam();
  const auto dir = testdata_dir() / "quant";
  const auto reference = test::load_reference_quant(type_name);
  for (const auto& t : reference.tensors) {
    const std::string& name = t.name;
    const int64_t cols = t.cols;
    const int64_t rows = t.rows;
    const size_t row_bytes = t.row_bytes;
    const std::string source = read_file(dir / "source" / (name + ".f32"));
    ASSERT_EQ(source.size(), static_cast<size_t>(rows * cols) * 4);
    std::vector<float> x(static_cast<size_t>(cols));
    std::vector<char> got(row_bytes);
    int mismatched_rows = 0;
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(x.data(), source.data() + r * cols * 4, static_cast<size_t>(cols) * 4);
      quantize_row(t.type, x.data(), got.data(), cols);
      if (std::memcmp(got.data(), t.data + r * row_bytes, row_bytes) != 0) {
        ++mismatched_rows;
        ADD_FAILURE() << type_name << " " << name << " row " << r << " differs";
        if (mismatched_rows > 3) return;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeReference,
                         ::testing::Values("F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"));

double rmse_after_round_trip(GgmlType type, const std::vector<float>& x) {
  std::vector<uint8_t> q(test::row_bytes(type, static_cast<int64_t>(x.size())));
  quantize_row(type, x.data(), q.data(), static_cast<int64_t>(x.size()));
  std::vector<float> y(x.size());
  dequantize_row(type, q.data(), y.data(), static_cast<int64_t>(x.size()));
  double se = 0;
  for (size_t i = 0; i < x.size(); ++i) se += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
  return std::sqrt(se / static_cast<double>(x.size()));
}

TEST(Quantize, ErrorOrderingOfTheFormats) {
  // On Gaussian data (rms 1): more bits, less error; an extra min or fifth bit helps.
  std::mt19937 rng(3);
  const auto x = test::random_floats(4096, rng);
  const double q4_0 = rmse_after_round_trip(GgmlType::Q4_0, x);
  const double q4_1 = rmse_after_round_trip(GgmlType::Q4_1, x);
  const double q5_0 = rmse_after_round_trip(GgmlType::Q5_0, x);
  const double q5_1 = rmse_after_round_trip(GgmlType::Q5_1, x);
  const double q8_0 = rmse_after_round_trip(GgmlType::Q8_0, x);
  EXPECT_LT(q4_0, 0.11);  // llama.cpp's Q4_0 on the reference Gaussian group: 0.086
  EXPECT_LT(q4_1, q4_0);
  EXPECT_LT(q5_0, q4_1);
  EXPECT_LT(q5_1, q4_0 / 1.6);
  EXPECT_LT(q8_0, q5_1 / 4);
}

TEST(Quantize, Q5_0And5_1RoundTripExactGrids) {
  // Values already on a 5-bit grid come back exactly.
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>((i % 32) - 16) * 0.25f;
  EXPECT_EQ(rmse_after_round_trip(GgmlType::Q5_0, x), 0.0);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i % 32) * 0.5f - 3.f;
  EXPECT_EQ(rmse_after_round_trip(GgmlType::Q5_1, x), 0.0);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i % 16) * 0.5f - 3.f;
  EXPECT_EQ(rmse_after_round_trip(GgmlType::Q4_1, x), 0.0);
}

TEST(Quantize, RejectsUnsupportedTypesAndBadLengths) {
  std::vector<float> x(256, 1.f);
  std::vector<uint8_t> out(1024);
  EXPECT_THROW(quantize_row(GgmlType::IQ2_XXS, x.data(), out.data(), 256), Error);
  EXPECT_THROW(quantize_row(GgmlType::Q4_K, x.data(), out.data(), 100), Error);
  EXPECT_FALSE(quantize_supported(GgmlType::Q2_K));
  EXPECT_TRUE(quantize_supported(GgmlType::Q6_K));
}

}  // namespace
}  // namespace inference::kernels
