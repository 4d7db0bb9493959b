// ResidentWeights: the weight matrices copied out of the file mapping into huge pages — every
// matrix the decoder multiplies, byte for byte or (where the copy is interleaved for the decode
// kernels) block for block, the views pointed at the copy (a tied embedding with them), and the
// logits of reading the mapping up to the kernels' summation order.
#include "engine/resident_weights.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/engine.hpp"
#include "engine/model_files.hpp"
#include "engine/weights.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/quantize.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

std::filesystem::path model(const std::string& dir, const std::string& file) {
  return test::testdata_dir() / "models" / dir / file;
}

// The embedding first, then every multiplied matrix (the output matrix second).
std::vector<kernels::WeightView*> matrices(ModelWeights& w) {
  std::vector<kernels::WeightView*> out = {&w.token_embd};
  for (kernels::WeightView* m : multiplied_matrices(w)) out.push_back(m);
  return out;
}

std::vector<std::byte> bytes_of(const kernels::WeightView& m) {
  const auto* p = static_cast<const std::byte*>(m.data);
  return {p, p + static_cast<size_t>(m.rows) * m.row_bytes};
}

// Whether `m` holds the blocks of `file_bytes` (its bytes in the file's layout): the same bytes,
// or an interleaved layout whose every row dequantises to the file row's values.
bool holds_blocks(const kernels::WeightView& m, const std::vector<std::byte>& file_bytes) {
  if (m.layout == kernels::RowLayout::ggml) return bytes_of(m) == file_bytes;
  std::vector<float> got(static_cast<size_t>(m.cols)), want(got.size());
  for (int64_t r = 0; r < m.rows; ++r) {
    kernels::dequantize_weight_row(m, r, got.data());
    kernels::dequantize_row(m.type, file_bytes.data() + static_cast<size_t>(r) * m.row_bytes,
                            want.data(), m.cols);
    if (got != want) return false;
  }
  return true;
}

TEST(ResidentWeights, CopiesEveryMultipliedMatrixOutOfTheMapping) {
  INFERENCE_REQUIRE_TESTDATA();
  // Gemma 3 ties its output matrix to the embedding: the one copy must serve both.
  auto files = open_model_files(model("gemma3", "gemma3-Q4_K_M.gguf"));
  HParams hp = files->hparams();
  ModelWeights w = bind_weights(files->tensors(), hp);
  ASSERT_EQ(w.token_embd.data, w.output.data);
  std::vector<std::vector<std::byte>> before;
  for (const kernels::WeightView* m : matrices(w)) before.push_back(bytes_of(*m));
  const std::vector<kernels::WeightView*> all = matrices(w);
  for (const kernels::WeightView* m : all) ASSERT_TRUE(files->is_mapped(m->data));

  kernels::ThreadPool pool(2);
  const ResidentWeights resident = ResidentWeights::adopt(w, *files, pool);
  if (!transparent_huge_pages_available()) {
    EXPECT_EQ(resident.bytes(), 0u);
    for (const kernels::WeightView* m : all) EXPECT_TRUE(files->is_mapped(m->data));
    GTEST_SKIP() << "no transparent huge pages on this system: the weights stay on the file";
  }
  size_t total = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_FALSE(files->is_mapped(all[i]->data)) << "matrix " << i << " still read from the file";
    EXPECT_TRUE(holds_blocks(*all[i], before[i])) << "matrix " << i << " copied wrong";
    if (i > 0) total += before[i].size();  // the embedding is the output matrix
  }
  EXPECT_EQ(w.token_embd.data, w.output.data);
  EXPECT_GE(resident.bytes(), total);
  EXPECT_LT(resident.bytes(), total + 64 * all.size());
}

TEST(ResidentWeights, LogitsEqualThoseReadFromTheMapping) {
  INFERENCE_REQUIRE_TESTDATA();
  for (const char* file : {"llama-Q4_K_M.gguf", "llama-Q8_0.gguf"}) {
    std::vector<std::vector<float>> logits;
    for (const bool huge : {false, true}) {
      ModelLoadOptions options;
      options.context_length = 64;
      options.threads = 2;
      options.huge_page_weights = huge;
      auto engine = Engine::load(model("llama", file), options);
      std::vector<BatchEntry> batch;
      for (int32_t i = 0; i < 6; ++i) batch.push_back({(7 * i + 3) % 100, i, 0, true});
      std::vector<float> out;
      engine->decode(Context::background(), batch, out);  // a prompt
      engine->decode(Context::background(), std::vector<BatchEntry>{{11, 6, 0, true}}, out);
      logits.push_back(out);  // and one decoded token
    }
    // Interleaved copies (kernels::interleaving_pays) take kernels that sum in another order.
    ASSERT_EQ(logits[0].size(), logits[1].size());
    float scale = 0;
    for (const float v : logits[0]) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < logits[0].size(); ++i) {
      ASSERT_NEAR(logits[1][i], logits[0][i], 1e-4f * scale) << file << " logit " << i;
    }
  }
}

}  // namespace
}  // namespace inference::engine
