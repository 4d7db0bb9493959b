// inference::discover(): recursive, sorted, symlink loops survived, bad files reported.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "formats/safetensors.hpp"
#include "inference/discovery.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference {
namespace {

namespace fs = std::filesystem;

TEST(Discover, FindsGgufAndSafetensorsReportsProblems) {
  INFERENCE_REQUIRE_TESTDATA();
  fs::path root = test::make_temp_dir("discover");
  fs::create_directories(root / "b/deeper");
  fs::create_directories(root / "a");
  fs::create_symlink(test::testdata_dir() / "models/llama/llama-Q4_K_M.gguf",
                     root / "b/deeper/llama.gguf");
  fs::create_symlink(test::testdata_dir() / "models/gemma3/gemma3-F32.gguf", root / "a/gemma.gguf");
  fs::create_symlink(root, root / "b/loop");  // a cycle back to the top
  fs::create_symlink(root / "missing.gguf", root / "a/dangling.gguf");
  std::ofstream(root / "a/broken.gguf") << "GGUF but not really";
  std::ofstream(root / "a/notes.txt") << "ignored";
  fs::create_directories(root / "hf/my-model");
  fs::copy_file(test::source_dir() / "tests/formats/data/configs/qwen3-0.6b.json",
                root / "hf/my-model/config.json");
  formats::SafetensorsWriter w;
  std::vector<std::byte> data(8);
  w.add_tensor("w", formats::SafetensorsDtype::BF16, {4}, data);
  w.write(root / "hf/my-model/model.safetensors");

  Discovery d = discover(root);
  ASSERT_EQ(d.models.size(), 3u);
  EXPECT_EQ(d.models[0].path, root / "a/gemma.gguf");
  EXPECT_EQ(d.models[0].architecture, "gemma3");
  EXPECT_EQ(d.models[0].quantization, "all F32");
  EXPECT_EQ(d.models[0].context_length, 256);
  EXPECT_EQ(d.models[1].path, root / "b/deeper/llama.gguf");
  EXPECT_EQ(d.models[1].quantization, "Q4_K - Medium");
  EXPECT_EQ(d.models[1].name, "micro llama (A)");
  EXPECT_GT(d.models[1].parameter_count, 0u);
  EXPECT_EQ(d.models[1].size_bytes,
            fs::file_size(test::testdata_dir() / "models/llama/llama-Q4_K_M.gguf"));
  EXPECT_EQ(d.models[2].path, root / "hf/my-model");
  EXPECT_EQ(d.models[2].format, "safetensors");
  EXPECT_EQ(d.models[2].architecture, "qwen3");
  EXPECT_EQ(d.models[2].name, "my-model");
  EXPECT_EQ(d.models[2].quantization, "BF16");
  EXPECT_EQ(d.models[2].context_length, 40960);
  ASSERT_EQ(d.problems.size(), 2u);
  std::string all = d.problems[0] + "\n" + d.problems[1];
  EXPECT_NE(all.find("broken.gguf"), std::string::npos);
  EXPECT_NE(all.find("dangling.gguf"), std::string::npos);

  if (::geteuid() != 0) {  // root reads everything; the permission check means nothing there
    fs::create_directories(root / "locked");
    fs::permissions(root / "locked", fs::perms::none);
    Discovery locked = discover(root);
    fs::permissions(root / "locked", fs::perms::owner_all);
    EXPECT_EQ(locked.models.size(), 3u);
    EXPECT_EQ(locked.problems.size(), 3u);
  }
  fs::remove_all(root);
}

TEST(Discover, MissingDirectoryIsNotFound) {
  try {
    discover("/nonexistent/models");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

}  // namespace
}  // namespace inference
