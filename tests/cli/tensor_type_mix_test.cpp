// The type rules of generated files against files llama-quantize wrote (shared testdata): a
// generated Q4_K_M/Q5_K_M/Q8_0 model must have the reference's per-tensor types, or its
// benchmark would read a different number of bytes than the real thing.
#include <gtest/gtest.h>

#include <map>

#include "cli/model_shapes.hpp"
#include "cli/tensor_type_mix.hpp"
#include "formats/gguf.hpp"
#include "support/testdata.hpp"

namespace inference::cli {
namespace {

void expect_types_like(const std::string& relative, const std::string& file_type) {
  const auto file = formats::GgufFile::open(test::testdata_dir() / "models" / relative);
  const auto request = parse_file_type(file_type);
  ASSERT_TRUE(request.has_value());
  const auto n_layers = *file.arch_int("block_count");
  const bool tied = file.find_tensor("output.weight") == nullptr;
  for (const auto& t : file.tensors()) {
    const auto spec = tensor_spec_from_name(t.name, t.ne);
    EXPECT_EQ(tensor_type_for(*request, spec, n_layers, tied), t.type)
        << relative << ": " << t.name;
  }
}

TEST(TensorTypeMix, MatchesLlamaQuantizeOnReferenceFiles) {
  INFERENCE_REQUIRE_TESTDATA();
  expect_types_like("llama/llama-Q4_K_M.gguf", "Q4_K_M");
  expect_types_like("llama/llama-Q5_K_M.gguf", "Q5_K_M");
  expect_types_like("llama/llama-Q8_0.gguf", "Q8_0");
  expect_types_like("gemma3/gemma3-Q4_K_M.gguf", "Q4_K_M");
  expect_types_like("qwen2/qwen2-Q4_K_M.gguf", "Q4_K_M");
  expect_types_like("qwen2/qwen2-Q8_0.gguf", "Q8_0");
  expect_types_like("e2e/e2e-spm-mistral-Q4_K_M.gguf", "Q4_K_M");
}

TEST(TensorTypeMix, RowsThatAreNotMultiplesOf256FallBack) {
  // Qwen2.5-0.5B: hidden 896 is not a multiple of 256, so llama-quantize writes Q5_0 for the
  // Q4_K tensors reading it and Q8_0 for the (tied) Q6_K output.
  const auto& shape = *find_model_shape("qwen2.5-0.5b");
  const auto request = *parse_file_type("q4_k_m");
  std::map<std::string, GgmlType> types;
  for (const auto& spec : model_tensors(shape)) {
    types[spec.name] = tensor_type_for(request, spec, shape.n_layer, shape.tied);
  }
  EXPECT_EQ(types.at("token_embd.weight"), GgmlType::Q8_0);
  EXPECT_EQ(types.at("blk.3.attn_q.weight"), GgmlType::Q5_0);
  EXPECT_EQ(types.at("blk.3.ffn_down.weight"), GgmlType::Q4_K);  // 4864 = 19 * 256
  EXPECT_EQ(types.at("blk.0.ffn_down.weight"), GgmlType::Q6_K);
  EXPECT_EQ(types.at("blk.0.attn_norm.weight"), GgmlType::F32);
}

TEST(TensorTypeMix, ParsesFileTypes) {
  EXPECT_EQ(parse_file_type("f16")->base, GgmlType::F16);
  EXPECT_EQ(parse_file_type("Q4_K_M")->general_file_type, 15u);
  EXPECT_EQ(parse_file_type("Q5_K_M")->general_file_type, 17u);
  EXPECT_EQ(parse_file_type("Q8_0")->general_file_type, 7u);
  EXPECT_FALSE(parse_file_type("Q4_K_XL").has_value());
  EXPECT_FALSE(parse_file_type("I32").has_value());
}

}  // namespace
}  // namespace inference::cli
