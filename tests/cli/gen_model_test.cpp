// infer gen-model: the files it writes are valid GGUF with the shape's metadata and tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "formats/gguf.hpp"
#include "run_infer.hpp"
#include "support/testdata.hpp"
#include "testing/model_shapes.hpp"

namespace inference::test {
namespace {

class GenModel : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("gen_model"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string generate(const std::string& shape, const std::string& type, int seed = 1) {
    const auto path = (dir_ / (shape + "-" + type + "-" + std::to_string(seed) + ".gguf")).string();
    auto run = run_infer({"gen-model", "--shape", shape, "--type", type, "--out", path, "--seed",
                          std::to_string(seed)});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return path;
  }
  std::filesystem::path dir_;
};

std::vector<float> as_floats(const formats::GgufTensor& t) {
  std::vector<float> v(t.n_elements);
  std::memcpy(v.data(), t.data.data(), t.n_bytes);
  return v;
}

TEST_F(GenModel, TinyLlamaHasTheShapesMetadataAndTensors) {
  const auto file = formats::GgufFile::open(generate("tiny-llama", "F32"));
  const auto& shape = *testing::find_model_shape("tiny-llama");
  EXPECT_EQ(file.architecture(), "llama");
  EXPECT_EQ(file.arch_int("embedding_length"), shape.n_embd);
  EXPECT_EQ(file.arch_int("block_count"), shape.n_layer);
  EXPECT_EQ(file.arch_int("feed_forward_length"), shape.n_ff);
  EXPECT_EQ(file.arch_int("attention.head_count"), shape.n_head);
  EXPECT_EQ(file.arch_int("attention.head_count_kv"), shape.n_head_kv);
  EXPECT_EQ(file.arch_int("attention.key_length"), shape.head_dim);
  EXPECT_EQ(file.arch_int("context_length"), shape.n_ctx_train);
  EXPECT_FLOAT_EQ(static_cast<float>(*file.arch_float("attention.layer_norm_rms_epsilon")),
                  shape.rms_eps);
  EXPECT_EQ(file.get_int("general.file_type"), 0);
  EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(),
            static_cast<size_t>(shape.n_vocab));
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.merges").size(),
            static_cast<size_t>(shape.n_vocab - 256 - 2));

  ASSERT_EQ(file.tensors().size(), testing::model_tensors(shape).size());
  const auto* q = file.find_tensor("blk.1.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ne, (std::vector<int64_t>{256, 256}));
  const auto* k = file.find_tensor("blk.0.attn_k.weight");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->ne, (std::vector<int64_t>{256, 128}));
  const auto* down = file.find_tensor("blk.1.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->ne, (std::vector<int64_t>{512, 256}));
  const auto* out = file.find_tensor("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->ne, (std::vector<int64_t>{256, 1024}));

  // Norms are ones; weights are centred with standard deviation ~0.02.
  for (float v : as_floats(*file.find_tensor("blk.0.attn_norm.weight"))) EXPECT_EQ(v, 1.0f);
  const auto w = as_floats(*file.find_tensor("token_embd.weight"));
  double sum = 0, sq = 0;
  for (float v : w) sum += v, sq += static_cast<double>(v) * v;
  const double mean = sum / w.size();
  const double sd = std::sqrt(sq / w.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 1e-3);
  EXPECT_NEAR(sd, 0.02, 0.002);
}

TEST_F(GenModel, QwenAndGemmaShapesCarryTheirSpecifics) {
  const auto qwen = formats::GgufFile::open(generate("tiny-qwen2", "F16"));
  EXPECT_EQ(qwen.architecture(), "qwen2");
  EXPECT_EQ(qwen.get_int("general.file_type"), 1);
  EXPECT_NE(qwen.find_tensor("blk.0.attn_q.bias"), nullptr);
  EXPECT_EQ(qwen.find_tensor("output.weight"), nullptr);  // tied
  EXPECT_EQ(qwen.find_tensor("blk.0.attn_q.weight")->type, formats::GgmlType::F16);
  EXPECT_EQ(qwen.find_tensor("blk.0.attn_q.bias")->type, formats::GgmlType::F32);

  const auto gemma = formats::GgufFile::open(generate("tiny-gemma3", "BF16"));
  EXPECT_EQ(gemma.architecture(), "gemma3");
  EXPECT_EQ(gemma.arch_int("attention.sliding_window"), 8);
  EXPECT_EQ(gemma.arch_float("rope.freq_base_swa"), 10000.0);
  EXPECT_NE(gemma.find_tensor("blk.5.attn_q_norm.weight"), nullptr);
  EXPECT_NE(gemma.find_tensor("blk.5.post_ffw_norm.weight"), nullptr);
  EXPECT_NE(gemma.find_tensor("blk.5.post_attention_norm.weight"), nullptr);
  EXPECT_EQ(gemma.find_tensor("blk.0.ffn_up.weight")->type, formats::GgmlType::BF16);
}

TEST_F(GenModel, RealShapesListTheirPublishedSizes) {
  // The tensor list alone (no file: a 1B model is gigabytes): parameter counts of the real models.
  auto params = [](const char* name) {
    uint64_t n = 0;
    for (const auto& t : testing::model_tensors(*testing::find_model_shape(name))) {
      uint64_t e = 1;
      for (auto d : t.ne) e *= static_cast<uint64_t>(d);
      n += e;
    }
    return n;
  };
  EXPECT_EQ(params("llama-3.2-1b"), 1235814432u);  // 1.24 B, as llama.cpp reports
  EXPECT_EQ(params("qwen2.5-0.5b"), 494032768u);   // 494 M
  EXPECT_EQ(params("gemma-3-1b"), 999885952u);     // 1.00 B
}

TEST_F(GenModel, SameSeedSameBytesOtherSeedOtherBytes) {
  const auto a = read_file(generate("tiny-llama", "F16", 7));
  const auto b = read_file(generate("tiny-llama", "F16", 7));
  const auto c = read_file(generate("tiny-llama", "F16", 8));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.size(), c.size());
}

TEST_F(GenModel, VocabFromCopiesTheTokenizer) {
  // Any GGUF with a tokenizer of the right size will do: here another generated model, whose
  // synthetic vocab the copy must reproduce key by key.
  const auto source_path = generate("tiny-qwen2", "F16");
  const auto copy_path = (dir_ / "copy.gguf").string();
  auto copy = run_infer(
      {"gen-model", "--shape", "tiny-llama", "--out", copy_path, "--vocab-from", source_path});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  const auto source = formats::GgufFile::open(source_path);
  const auto copied = formats::GgufFile::open(copy_path);
  EXPECT_EQ(copied.get_string_array("tokenizer.ggml.tokens"),
            source.get_string_array("tokenizer.ggml.tokens"));
  EXPECT_EQ(copied.get_string_array("tokenizer.ggml.merges"),
            source.get_string_array("tokenizer.ggml.merges"));
  EXPECT_EQ(copied.get_int("tokenizer.ggml.eos_token_id"),
            source.get_int("tokenizer.ggml.eos_token_id"));
}

TEST_F(GenModel, VocabFromOfTheWrongSizeIsRefused) {
  INFERENCE_REQUIRE_TESTDATA();
  // The gpt-2 vocab has 50257 tokens: a shape of another size is refused, naming both sizes.
  const auto vocab = (testdata_dir() / "vocab" / "ggml-vocab-gpt-2.gguf").string();
  auto run = run_infer({"gen-model", "--shape", "tiny-llama", "--out", (dir_ / "x.gguf").string(),
                        "--vocab-from", vocab});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("50257"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("1024"), std::string::npos) << run.err;
}

TEST_F(GenModel, BadArgumentsAreUsageErrors) {
  const auto out = (dir_ / "x.gguf").string();
  auto unknown_shape = run_infer({"gen-model", "--shape", "llama-99b", "--out", out});
  EXPECT_EQ(unknown_shape.exit_code, 2);
  EXPECT_NE(unknown_shape.err.find("llama-99b"), std::string::npos) << unknown_shape.err;
  EXPECT_NE(unknown_shape.err.find("tiny-llama"), std::string::npos) << unknown_shape.err;
  auto unknown_type =
      run_infer({"gen-model", "--shape", "tiny-llama", "--type", "Q9", "--out", out});
  EXPECT_EQ(unknown_type.exit_code, 2);
  EXPECT_NE(unknown_type.err.find("Q9"), std::string::npos) << unknown_type.err;
  EXPECT_EQ(run_infer({"gen-model", "--shape", "tiny-llama"}).exit_code, 2);  // no --out
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace inference::test
