// Model summaries (info/models/fit input) from GGUF headers and Safetensors directories.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/model_summary.hpp"
#include "formats/safetensors.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::formats {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const json* kv(const json& header, const std::string& key) {
  for (const auto& entry : header["kv"]) {
    if (entry["key"] == key) return &entry;
  }
  return nullptr;
}

TEST(ModelSummary, EveryReferenceModelMatchesItsHeaderDump) {
  INFERENCE_REQUIRE_TESTDATA();
  const std::map<int, std::string> file_types = {
      {0, "all F32"},        {1, "F16"},   {2, "Q4_0"}, {7, "Q8_0"}, {15, "Q4_K - Medium"},
      {17, "Q5_K - Medium"}, {18, "Q6_K"}, {32, "BF16"}};
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(test::testdata_dir() / "models")) {
    if (entry.path().extension() != ".gguf") continue;
    SCOPED_TRACE(entry.path().string());
    json header = json::parse(test::read_file(entry.path().string() + ".json"));
    ModelSummary s = summarize_model(entry.path());
    std::string arch = (*kv(header, "general.architecture"))["value"];
    EXPECT_EQ(s.format, "gguf");
    EXPECT_EQ(s.architecture, arch);
    EXPECT_EQ(s.name, (*kv(header, "general.name"))["value"].get<std::string>());
    EXPECT_EQ(s.context_length, (*kv(header, arch + ".context_length"))["value"].get<int64_t>());
    EXPECT_EQ(s.n_layers, (*kv(header, arch + ".block_count"))["value"].get<int64_t>());
    EXPECT_EQ(s.n_heads, (*kv(header, arch + ".attention.head_count"))["value"].get<int64_t>());
    EXPECT_EQ(s.n_kv_heads,
              (*kv(header, arch + ".attention.head_count_kv"))["value"].get<int64_t>());
    EXPECT_EQ(s.n_embd, (*kv(header, arch + ".embedding_length"))["value"].get<int64_t>());
    EXPECT_EQ(s.vocab_size, (*kv(header, "tokenizer.ggml.tokens"))["length"].get<int64_t>());
    EXPECT_EQ(s.tokenizer_model, (*kv(header, "tokenizer.ggml.model"))["value"].get<std::string>());
    EXPECT_EQ(s.has_chat_template, kv(header, "tokenizer.chat_template") != nullptr);
    EXPECT_EQ(s.file_type, file_types.at((*kv(header, "general.file_type"))["value"].get<int>()));
    EXPECT_EQ(s.size_bytes, header["bytes"].get<uint64_t>());
    uint64_t bytes = 0;
    uint64_t params = 0;
    for (const auto& t : header["tensors"]) {
      bytes += t["n_bytes"].get<uint64_t>();
      uint64_t n = 1;
      for (const auto& d : t["ne"]) n *= d.get<uint64_t>();
      params += n;
    }
    EXPECT_EQ(s.weight_bytes, bytes);
    EXPECT_EQ(s.parameter_count, params);
    EXPECT_EQ(s.tensors.size(), header["tensors"].size());
    EXPECT_EQ(s.metadata.size(), header["kv"].size());
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

TEST(ModelSummary, Gemma3SlidingLayers) {
  INFERENCE_REQUIRE_TESTDATA();
  ModelSummary s = summarize_model(test::testdata_dir() / "models/gemma3/gemma3-Q4_K_M.gguf");
  EXPECT_EQ(s.sliding_window, 8);
  EXPECT_EQ(s.sliding_layers, (std::vector<bool>{true, true, true, true, true, false}));
  EXPECT_EQ(s.head_dim_k, 64);
  ModelSummary llama = summarize_model(test::testdata_dir() / "models/llama/llama-F32.gguf");
  EXPECT_TRUE(llama.sliding_layers.empty());
  EXPECT_EQ(llama.head_dim_k, 64);  // n_embd / n_head: no key_length stored
}

class SafetensorsSummary : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("st_summary") / "gemma-3-1b-it";
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_.parent_path()); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  fs::path dir_;
};

TEST_F(SafetensorsSummary, ConfigAndShards) {
  fs::copy_file(test::source_dir() / "tests/formats/data/configs/gemma-3-1b-it.json",
                dir_ / "config.json");
  write("tokenizer_config.json", R"({"chat_template": "{{ messages }}"})");
  write("tokenizer.json", "{}");
  SafetensorsWriter w;
  std::vector<std::byte> bf16(2 * 6 * 4), f32(4 * 4);
  w.add_tensor("model.embed_tokens.weight", SafetensorsDtype::BF16, {6, 4}, bf16);
  w.add_tensor("model.norm.weight", SafetensorsDtype::F32, {4}, f32);
  w.write_sharded(dir_, 1);
  ModelSummary s = summarize_model(dir_);
  EXPECT_EQ(s.format, "safetensors");
  EXPECT_EQ(s.name, "gemma-3-1b-it");
  EXPECT_EQ(s.architecture, "gemma3");
  EXPECT_EQ(s.file_type, "BF16");
  EXPECT_EQ(s.parameter_count, 28u);
  EXPECT_EQ(s.weight_bytes, 64u);
  EXPECT_EQ(s.n_layers, 26);
  EXPECT_EQ(s.n_kv_heads, 1);
  EXPECT_EQ(s.head_dim_k, 256);
  EXPECT_EQ(s.context_length, 32768);
  EXPECT_EQ(s.vocab_size, 262144);
  EXPECT_EQ(s.sliding_window, 512);
  ASSERT_EQ(s.sliding_layers.size(), 26u);
  EXPECT_FALSE(s.sliding_layers[5]);
  EXPECT_TRUE(s.sliding_layers[6]);
  EXPECT_TRUE(s.has_chat_template);
  EXPECT_EQ(s.tokenizer_model, "tokenizer.json");
  EXPECT_EQ(s.tensors.size(), 2u);
  EXPECT_TRUE(looks_like_model(dir_));
}

TEST_F(SafetensorsSummary, MlxQuantized) {
  fs::copy_file(test::source_dir() / "tests/formats/data/configs/qwen2.5-7b-instruct-mlx-4bit.json",
                dir_ / "config.json");
  SafetensorsWriter w;
  // 4-bit: each U32 packs 8 values; a 2×64 weight is 2×8 U32 with 2×1 scales and biases.
  std::vector<std::byte> packed(4 * 16), scales(2 * 2);
  w.add_tensor("model.layers.0.mlp.up_proj.weight", SafetensorsDtype::U32, {2, 8}, packed);
  w.add_tensor("model.layers.0.mlp.up_proj.scales", SafetensorsDtype::BF16, {2, 1}, scales);
  w.add_tensor("model.layers.0.mlp.up_proj.biases", SafetensorsDtype::BF16, {2, 1}, scales);
  w.write(dir_ / "model.safetensors");
  ModelSummary s = summarize_model(dir_);
  EXPECT_EQ(s.file_type, "mlx-4bit");
  EXPECT_EQ(s.parameter_count, 128u);
  EXPECT_FALSE(s.has_chat_template);
  EXPECT_TRUE(s.sliding_layers.empty());  // use_sliding_window: false
}

TEST(ModelSummaryErrors, MissingUnsupportedAndMalformed) {
  try {
    summarize_model("/nonexistent/model.gguf");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  fs::path dir = test::make_temp_dir("summary_errors");
  try {
    summarize_model(dir);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
  }
  std::ofstream(dir / "junk.gguf") << "this is not a model";
  try {
    summarize_model(dir / "junk.gguf");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_model);
    EXPECT_NE(std::string(e.what()).find("junk.gguf"), std::string::npos);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace inference::formats
