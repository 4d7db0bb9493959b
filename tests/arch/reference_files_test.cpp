// The architecture table against files the reference converter wrote (shared testdata): for
// every GGUF model, the table's tensor list for the file's hyper-parameters is exactly the file's
// tensor table (names and shapes), and its sliding-window layers are the file's.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "arch/tensors.hpp"
#include "formats/gguf.hpp"
#include "support/testdata.hpp"

namespace inference::arch {
namespace {

TEST(ArchitectureReferenceFiles, TensorListIsTheConvertersTensorTable) {
  INFERENCE_REQUIRE_TESTDATA();
  int checked = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(test::testdata_dir() / "models")) {
    if (entry.path().extension() != ".gguf") continue;
    const auto file = formats::GgufFile::open(entry.path());
    const Architecture* a = find(file.architecture());
    ASSERT_NE(a, nullptr) << entry.path();
    SCOPED_TRACE(entry.path().string());
    TensorShapeParams p;
    p.n_embd = file.arch_int("embedding_length").value_or(0);
    p.n_layer = file.arch_int("block_count").value_or(0);
    p.n_head = file.arch_int("attention.head_count").value_or(0);
    p.n_head_kv = file.arch_int("attention.head_count_kv").value_or(p.n_head);
    p.head_dim = file.arch_int("attention.key_length").value_or(p.n_embd / p.n_head);
    p.n_ff = file.arch_int("feed_forward_length").value_or(0);
    const auto* embd = file.find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    p.n_vocab = embd->ne[1];
    p.tied = file.find_tensor("output.weight") == nullptr;
    p.rope_freqs = file.find_tensor("rope_freqs.weight") != nullptr;
    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& t : tensor_list(*a, p)) expected[t.name] = t.ne;
    std::map<std::string, std::vector<int64_t>> actual;
    for (const auto& t : file.tensors()) actual[t.name] = t.ne;
    EXPECT_EQ(actual, expected);
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

}  // namespace
}  // namespace inference::arch
