// Models whose metadata and tensors disagree (rewritten from a reference micro model with one
// thing changed) are refused with an inference::Error that names the key or tensor at fault.
#include <gtest/gtest.h>

#include <functional>

#include "engine/engine.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

namespace fs = std::filesystem;
using formats::GgufValue;

// Copies llama-F32.gguf, letting `edit_key` change or drop (return false) metadata and
// `keep_tensor` drop tensors, then loads the copy and returns the error it raised.
std::optional<Error> load_variant(
    const std::function<bool(const std::string&, GgufValue&)>& edit_key,
    const std::function<bool(const std::string&)>& keep_tensor = [](const std::string&) {
      return true;
    }) {
  auto src = formats::GgufFile::open(test::testdata_dir() / "models/llama/llama-F32.gguf");
  formats::GgufWriter w;
  for (const auto& [key, value] : src.metadata()) {
    GgufValue v = value;
    if (edit_key(key, v)) w.set(key, v);
  }
  for (const auto& t : src.tensors()) {
    if (keep_tensor(t.name)) w.add_tensor(t.name, t.type, t.ne, t.data, /*copy=*/false);
  }
  const fs::path dir = test::make_temp_dir("engine-hostile");
  w.write(dir / "model.gguf");
  std::optional<Error> error;
  try {
    Engine::load(dir / "model.gguf", {.context_length = 32, .threads = 1});
  } catch (const Error& e) {
    error = e;
  }
  fs::remove_all(dir);
  return error;
}

GgufValue u32(uint32_t v) {
  return {formats::GgufType::UINT32, v};
}

void expect_error(const std::optional<Error>& e, ErrorCode code, const std::string& needle) {
  ASSERT_TRUE(e.has_value()) << "the model loaded; expected an error naming " << needle;
  EXPECT_EQ(e->code(), code) << e->what();
  EXPECT_NE(std::string(e->what()).find(needle), std::string::npos) << e->what();
}

TEST(HostileModel, UnchangedCopyLoads) {
  INFERENCE_REQUIRE_TESTDATA();
  EXPECT_FALSE(load_variant([](const std::string&, GgufValue&) { return true; }).has_value());
}

TEST(HostileModel, HeadCountsThatDoNotDivide) {
  INFERENCE_REQUIRE_TESTDATA();
  auto e = load_variant([](const std::string& k, GgufValue& v) {
    if (k == "llama.attention.head_count_kv") v = u32(3);
    return true;
  });
  expect_error(e, ErrorCode::invalid_model, "head_count_kv");
}

TEST(HostileModel, ShapeThatDisagreesWithMetadata) {
  INFERENCE_REQUIRE_TESTDATA();
  auto e = load_variant([](const std::string& k, GgufValue& v) {
    if (k == "llama.feed_forward_length") v = u32(640);
    return true;
  });
  expect_error(e, ErrorCode::invalid_model, "blk.0.ffn_gate.weight");
}

TEST(HostileModel, MissingTensor) {
  INFERENCE_REQUIRE_TESTDATA();
  auto e = load_variant([](const std::string&, GgufValue&) { return true; },
                        [](const std::string& name) { return name != "blk.1.ffn_down.weight"; });
  expect_error(e, ErrorCode::invalid_model, "missing tensor blk.1.ffn_down.weight");
}

TEST(HostileModel, MissingAndAbsurdKeys) {
  INFERENCE_REQUIRE_TESTDATA();
  expect_error(
      load_variant([](const std::string& k, GgufValue&) { return k != "llama.embedding_length"; }),
      ErrorCode::invalid_model, "llama.embedding_length");
  expect_error(load_variant([](const std::string& k, GgufValue& v) {
                 if (k == "llama.block_count") v = u32(4000000000u);
                 return true;
               }),
               ErrorCode::invalid_model, "llama.block_count");
  expect_error(load_variant([](const std::string& k, GgufValue& v) {
                 if (k == "llama.rope.dimension_count") v = u32(65);
                 return true;
               }),
               ErrorCode::invalid_model, "rope dimension");
}

TEST(HostileModel, UnknownArchitecture) {
  INFERENCE_REQUIRE_TESTDATA();
  auto e = load_variant([](const std::string& k, GgufValue& v) {
    if (k == "general.architecture") v = {formats::GgufType::STRING, std::string("mamba")};
    return true;
  });
  expect_error(e, ErrorCode::unsupported, "mamba");
}

}  // namespace
}  // namespace inference::engine
