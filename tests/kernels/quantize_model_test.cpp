// `infer quantize` end to end: quantising the reference F32 micro models must give llama.cpp's
// own quantised files byte for byte (same metadata order, tensor order and types from the mix
// rules, same blocks from the reference quantisers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>

#include "support/testdata.hpp"

namespace inference::kernels {
namespace {

struct Case {
  const char* dir;
  const char* type;
};

class QuantizeModel : public ::testing::TestWithParam<Case> {};

TEST_P(QuantizeModel, TensorsEqualLlamaQuantize) {
  INFERENCE_REQUIRE_TESTDATA();
  const Case c = GetParam();
  const auto models = inference::test::testdata_dir() / "models" / c.dir;
  const auto in = models / (std::string(c.dir) + "-F32.gguf");
  const auto want_path = models / (std::string(c.dir) + "-" + c.type + ".gguf");
  const auto out = inference::test::make_temp_dir("quantize_model") / "out.gguf";
  const std::string cmd = std::string(INFERENCE_INFER_PATH) + " quantize -t 2 '" + in.string() +
                          "' '" + out.string() + "' " + c.type + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  // Metadata (keys, order, values), tensor order, types, alignment and blocks: all equal.
  const std::string got = inference::test::read_file(out);
  const std::string want = inference::test::read_file(want_path);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "first difference at byte "
                           << std::distance(
                                  got.begin(),
                                  std::mismatch(got.begin(), got.end(), want.begin()).first);
}

INSTANTIATE_TEST_SUITE_P(Models, QuantizeModel,
                         ::testing::Values(Case{"llama", "F16"}, Case{"llama", "BF16"},
                                           Case{"llama", "Q8_0"}, Case{"llama", "Q4_0"},
                                           Case{"llama", "Q4_K_M"}, Case{"llama", "Q5_K_M"},
                                           Case{"llama", "Q6_K"}, Case{"qwen2", "Q4_K_M"},
                                           Case{"qwen3", "Q6_K"}, Case{"gemma3", "Q4_K_M"}),
                         [](const auto& info) {
                           return std::string(info.param.dir) + "_" + info.param.type;
                         });

}  // namespace
}  // namespace inference::kernels
