// The GGUF reader against headers dumped by an independent reader (gguf-py): every file in the
// shared test data must give exactly the recorded version, layout, metadata and tensor table.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "formats/gguf.hpp"
#include "support/testdata.hpp"

namespace inference::formats {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<fs::path> gguf_files_with_headers() {
  std::vector<fs::path> out;
  for (const char* dir : {"models", "quant"}) {
    fs::path root = test::testdata_dir() / dir;
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.path().extension() == ".gguf") out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Compares one scalar metadata value with its JSON rendering.
void expect_scalar(const std::string& key, const GgufValue& value, const json& expected) {
  SCOPED_TRACE(key);
  switch (value.type) {
    case GgufType::STRING:
      EXPECT_EQ(*value.as_string(), expected.get<std::string>());
      break;
    case GgufType::BOOL:
      EXPECT_EQ(*value.as_bool(), expected.get<bool>());
      break;
    case GgufType::FLOAT32:
      // gguf-py prints the float widened to double: narrowing back must be exact.
      EXPECT_EQ(std::get<float>(value.value), static_cast<float>(expected.get<double>()));
      break;
    case GgufType::FLOAT64:
      EXPECT_EQ(*value.as_double(), expected.get<double>());
      break;
    case GgufType::UINT64:
      EXPECT_EQ(std::get<uint64_t>(value.value), expected.get<uint64_t>());
      break;
    case GgufType::ARRAY:
      ADD_FAILURE() << "array where a scalar was expected";
      break;
    default:
      EXPECT_EQ(*value.as_int(), expected.get<int64_t>());
      break;
  }
}

TEST(GgufReference, EveryHeaderMatchesTheIndependentReader) {
  INFERENCE_REQUIRE_TESTDATA();
  auto files = gguf_files_with_headers();
  ASSERT_GE(files.size(), 20u) << "expected the models/ and quant/ GGUF files";
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    fs::path header_path = path;
    header_path += ".json";
    ASSERT_TRUE(fs::exists(header_path));
    json expected = json::parse(test::read_file(header_path));
    GgufFile file = GgufFile::open(path);

    EXPECT_EQ(file.version(), expected["version"].get<uint32_t>());
    EXPECT_EQ(file.alignment(), expected["alignment"].get<uint64_t>());
    EXPECT_EQ(file.data_offset(), expected["tensor_data_offset"].get<uint64_t>());
    EXPECT_EQ(file.file_size(), expected["bytes"].get<uint64_t>());

    const auto& kv = expected["kv"];
    ASSERT_EQ(file.metadata().size(), kv.size());
    ASSERT_EQ(file.metadata().size(), expected["n_kv"].get<size_t>());
    for (size_t i = 0; i < kv.size(); ++i) {
      const auto& [key, value] = file.metadata()[i];
      ASSERT_EQ(key, kv[i]["key"].get<std::string>());
      EXPECT_EQ(to_string(value.type), kv[i]["type"].get<std::string>()) << key;
      EXPECT_EQ(file.find(key), &value);
      if (value.type != GgufType::ARRAY) {
        expect_scalar(key, value, kv[i]["value"]);
        continue;
      }
      const GgufArray& array = *value.as_array();
      EXPECT_EQ(to_string(array.element_type), kv[i]["array_type"].get<std::string>()) << key;
      ASSERT_EQ(array.items.size(), kv[i]["length"].get<size_t>()) << key;
      const auto& head = kv[i]["head"];
      ASSERT_LE(head.size(), array.items.size());
      for (size_t j = 0; j < head.size(); ++j) expect_scalar(key, array.items[j], head[j]);
    }

    const auto& tensors = expected["tensors"];
    ASSERT_EQ(file.tensors().size(), tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      const GgufTensor& t = file.tensors()[i];
      const auto& want = tensors[i];
      SCOPED_TRACE(t.name);
      EXPECT_EQ(t.name, want["name"].get<std::string>());
      EXPECT_EQ(static_cast<uint32_t>(t.type), want["type_id"].get<uint32_t>());
      EXPECT_EQ(ggml_type_info(t.type)->name, want["type"].get<std::string>());
      EXPECT_EQ(t.ne, want["ne"].get<std::vector<int64_t>>());
      EXPECT_EQ(t.offset, want["offset"].get<uint64_t>());
      EXPECT_EQ(t.n_bytes, want["n_bytes"].get<uint64_t>());
      EXPECT_EQ(t.data.size(), t.n_bytes);
      EXPECT_EQ(file.find_tensor(t.name), &t);
    }
  }
}

TEST(GgufReference, TypedAccessorsOnAMicroModel) {
  INFERENCE_REQUIRE_TESTDATA();
  GgufFile file = GgufFile::open(test::testdata_dir() / "models/llama/llama-Q4_K_M.gguf");
  EXPECT_EQ(file.architecture(), "llama");
  EXPECT_EQ(file.arch_int("context_length"), 256);
  EXPECT_EQ(file.arch_int("attention.head_count_kv"), 2);
  EXPECT_FLOAT_EQ(static_cast<float>(*file.arch_float("rope.freq_base")), 500000.0f);
  EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(), 512u);
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens")[1], "<s>");
  EXPECT_EQ(file.get_float_array("tokenizer.ggml.scores").size(), 512u);
  EXPECT_EQ(file.get_int_array("tokenizer.ggml.token_type")[0], 2);
  EXPECT_TRUE(file.get_string_array("no.such.key").empty());
  EXPECT_THROW(file.get_string_array("tokenizer.ggml.scores"), Error);
  EXPECT_THROW(file.get_int_array("general.name"), Error);
  EXPECT_FALSE(file.get_int("general.name").has_value());
  EXPECT_EQ(gguf_file_type_name(file), "Q4_K - Medium");
  // Tensor data is a view into the mapping at data_offset + offset.
  const GgufTensor* embd = file.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->n_rows(), 512u);
  EXPECT_EQ(gguf_parameter_count(file) > 0, true);
}

TEST(GgufReference, VocabFilesMatchTheManifest) {
  INFERENCE_REQUIRE_TESTDATA();
  json manifest = json::parse(test::read_file(test::testdata_dir() / "vocab/manifest.json"));
  ASSERT_GE(manifest["vocabs"].size(), 13u);
  for (const auto& vocab : manifest["vocabs"]) {
    fs::path path = test::testdata_dir() / "vocab" / vocab["file"].get<std::string>();
    SCOPED_TRACE(path.string());
    GgufFile file = GgufFile::open(path);
    EXPECT_EQ(file.file_size(), vocab["bytes"].get<uint64_t>());
    EXPECT_TRUE(file.tensors().empty());
    EXPECT_EQ(file.get_string("tokenizer.ggml.model"), vocab["tokenizer_model"].get<std::string>());
    EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(),
              vocab["n_tokens"].get<size_t>());
    EXPECT_EQ(file.get_string_array("tokenizer.ggml.merges").size(),
              vocab["n_merges"].get<size_t>());
    EXPECT_EQ(file.get_int("tokenizer.ggml.bos_token_id"), vocab["bos_token_id"].get<int64_t>());
    EXPECT_EQ(file.get_int("tokenizer.ggml.eos_token_id"), vocab["eos_token_id"].get<int64_t>());
    EXPECT_EQ(file.find("tokenizer.chat_template") != nullptr,
              vocab["has_chat_template"].get<bool>());
    if (vocab["pre"].is_string() && vocab["pre"] != "(absent)") {
      EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), vocab["pre"].get<std::string>());
    }
  }
}

}  // namespace
}  // namespace inference::formats
