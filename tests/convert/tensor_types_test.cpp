// The one tensor-type chooser (quantize and gen-model) against files llama-quantize wrote (shared
// testdata): a generated or quantised Q4_K_M/Q5_K_M/Q8_0 model must have the reference's
// per-tensor types, or its benchmark would read a different number of bytes than the real thing.
#include <gtest/gtest.h>

#include <map>

#include "convert/tensor_types.hpp"
#include "formats/gguf.hpp"
#include "support/testdata.hpp"
#include "testing/model_shapes.hpp"

namespace inference::convert {
namespace {

void expect_types_like(const std::string& relative, const std::string& file_type) {
  const auto file = formats::GgufFile::open(test::testdata_dir() / "models" / relative);
  const auto request = parse_file_type(file_type);
  ASSERT_TRUE(request.has_value());
  // The rules see the tensors as the F16 file they were quantised from (1-D ones as F32).
  std::vector<TensorTypeInput> inputs;
  for (const auto& t : file.tensors()) {
    inputs.push_back(
        {t.name, t.ne, t.ne.size() < 2 ? formats::GgmlType::F32 : formats::GgmlType::F16});
  }
  const auto types = choose_tensor_types(*request, /*pure=*/false, inputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(types[i], file.tensors()[i].type) << relative << ": " << inputs[i].name;
  }
}

TEST(TensorTypes, MatchesLlamaQuantizeOnReferenceFiles) {
  INFERENCE_REQUIRE_TESTDATA();
  expect_types_like("llama/llama-Q4_K_M.gguf", "Q4_K_M");
  expect_types_like("llama/llama-Q5_K_M.gguf", "Q5_K_M");
  expect_types_like("llama/llama-Q8_0.gguf", "Q8_0");
  expect_types_like("gemma3/gemma3-Q4_K_M.gguf", "Q4_K_M");
  expect_types_like("qwen2/qwen2-Q4_K_M.gguf", "Q4_K_M");
  expect_types_like("qwen2/qwen2-Q8_0.gguf", "Q8_0");
  expect_types_like("e2e/e2e-spm-mistral-Q4_K_M.gguf", "Q4_K_M");
}

TEST(TensorTypes, RowsThatAreNotMultiplesOf256FallBack) {
  // Qwen2.5-0.5B: hidden 896 is not a multiple of 256, so llama-quantize writes Q5_0 for the
  // Q4_K tensors reading it and Q8_0 for the (tied) Q6_K output.
  const auto& shape = *testing::find_model_shape("qwen2.5-0.5b");
  const auto request = *parse_file_type("q4_k_m");
  std::vector<TensorTypeInput> inputs;
  for (const auto& spec : testing::model_tensors(shape)) {
    inputs.push_back({spec.name, spec.ne, formats::GgmlType::F32});
  }
  const auto chosen = choose_tensor_types(request, /*pure=*/false, inputs);
  std::map<std::string, formats::GgmlType> types;
  for (size_t i = 0; i < inputs.size(); ++i) types[inputs[i].name] = chosen[i];
  EXPECT_EQ(types.at("token_embd.weight"), formats::GgmlType::Q8_0);
  EXPECT_EQ(types.at("blk.3.attn_q.weight"), formats::GgmlType::Q5_0);
  EXPECT_EQ(types.at("blk.3.ffn_down.weight"), formats::GgmlType::Q4_K);  // 4864 = 19 * 256
  EXPECT_EQ(types.at("blk.0.ffn_down.weight"), formats::GgmlType::Q6_K);
  EXPECT_EQ(types.at("blk.0.attn_norm.weight"), formats::GgmlType::F32);
}

TEST(TensorTypes, ParsesFileTypes) {
  EXPECT_EQ(parse_file_type("f16")->base, formats::GgmlType::F16);
  EXPECT_EQ(parse_file_type("Q4_K_M")->general_file_type, 15u);
  EXPECT_EQ(parse_file_type("Q5_K_M")->general_file_type, 17u);
  EXPECT_EQ(parse_file_type("Q8_0")->general_file_type, 7u);
  EXPECT_FALSE(parse_file_type("Q4_K_XL").has_value());
  EXPECT_FALSE(parse_file_type("I32").has_value());
}

}  // namespace
}  // namespace inference::convert
