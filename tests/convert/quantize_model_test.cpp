// convert::quantize_model as a library call: the same bytes as the reference llama-quantize file,
// a progress callback that sees every input byte, and errors naming what is wrong.
#include <gtest/gtest.h>

#include <filesystem>

#include "convert/quantize_model.hpp"
#include "formats/gguf.hpp"
#include "support/testdata.hpp"

namespace inference::convert {
namespace {

TEST(QuantizeModel, WritesLlamaQuantizesTensorsAndReportsProgress) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto dir = test::make_temp_dir("quantize_model");
  const auto in = test::testdata_dir() / "models/llama/llama-F32.gguf";
  const auto out = dir / "q8.gguf";
  uint64_t last_done = 0, total = 0;
  int calls = 0;
  const QuantizeResult result = quantize_model(in, out, {.type = "q8_0", .threads = 1},
                                               [&](uint64_t done, uint64_t all, std::string_view) {
                                                 EXPECT_GE(done, last_done);
                                                 last_done = done;
                                                 total = all;
                                                 ++calls;
                                               });
  EXPECT_EQ(result.type, "Q8_0");
  const auto written = formats::GgufFile::open(out);
  const auto reference =
      formats::GgufFile::open(test::testdata_dir() / "models/llama/llama-Q8_0.gguf");
  EXPECT_EQ(result.n_tensors, written.tensors().size());
  EXPECT_EQ(calls, static_cast<int>(result.n_tensors) + 1);  // each tensor, then "writing"
  EXPECT_EQ(last_done, total);
  EXPECT_EQ(total, result.in_bytes);
  // Tensor for tensor, the blocks llama-quantize wrote.
  ASSERT_EQ(written.tensors().size(), reference.tensors().size());
  for (const auto& t : reference.tensors()) {
    const auto* mine = written.find_tensor(t.name);
    ASSERT_NE(mine, nullptr) << t.name;
    EXPECT_EQ(mine->type, t.type) << t.name;
    EXPECT_TRUE(std::equal(mine->data.begin(), mine->data.end(), t.data.begin(), t.data.end()))
        << t.name;
  }
  std::filesystem::remove_all(dir);
}

TEST(QuantizeModel, ErrorsNameTheProblem) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto dir = test::make_temp_dir("quantize_model_errors");
  try {
    quantize_model(test::testdata_dir() / "models/llama/llama-F32.gguf", dir / "x.gguf",
                   {.type = "Q4_K_XL"});
    ADD_FAILURE() << "accepted an unknown type";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("'Q4_K_XL'"), std::string::npos) << e.what();
  }
  try {
    quantize_model(test::testdata_dir() / "models/llama/llama-Q4_K_M.gguf", dir / "x.gguf",
                   {.type = "Q8_0"});
    ADD_FAILURE() << "requantised without allow_requantize";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("already quantised"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace inference::convert
