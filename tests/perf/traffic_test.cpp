// perf: the bytes one forward pass reads, as bench counts them from the GGUF tensor table
// (perf::model_traffic), as the engine counts them from its bound weights, and as the native
// backend reports them to every consumer (GenerateMetrics::bytes_per_token): all the same.
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "formats/gguf.hpp"
#include "inference/backend.hpp"
#include "perf/bench_stats.hpp"
#include "perf/model_traffic.hpp"
#include "support/testdata.hpp"

namespace inference::perf {
namespace {

TEST(ModelTraffic, EngineAndBackendReportTheBenchFigure) {
  INFERENCE_REQUIRE_TESTDATA();
  // An untied model (token_embd read one row per token) and a tied one (read whole).
  for (const char* name : {"llama/llama-Q4_K_M.gguf", "qwen2/qwen2-Q8_0.gguf"}) {
    SCOPED_TRACE(name);
    const auto path = test::testdata_dir() / "models" / name;
    const auto file = formats::GgufFile::open(path);
    const ModelTraffic traffic = model_traffic(file);
    ASSERT_GT(traffic.bytes_per_pass, 0u);
    const auto* embd = file.find_tensor("token_embd.weight");
    EXPECT_EQ(traffic.tied_output, file.find_tensor("output.weight") == nullptr);
    if (!traffic.tied_output) {
      EXPECT_EQ(traffic.bytes_by_kind.at("token_embd"), embd->n_bytes / embd->n_rows());
    }

    engine::ModelLoadOptions options;
    options.context_length = 64;
    options.threads = 1;
    EXPECT_EQ(engine::Engine::load(path, options)->weight_bytes_per_token(),
              traffic.bytes_per_pass);

    auto model = load_model(path, {.backend = "native", .context_length = 64});
    EXPECT_EQ(model->metrics().bytes_per_token, traffic.bytes_per_pass);
  }
}

TEST(ModelTraffic, TensorKinds) {
  EXPECT_EQ(tensor_kind("blk.3.attn_q.weight"), "attn_q");
  EXPECT_EQ(tensor_kind("blk.12.attn_q.bias"), "attn_q.bias");
  EXPECT_EQ(tensor_kind("output_norm.weight"), "output_norm");
}

TEST(BenchStats, MeanAndSampleStandardDeviation) {
  const SampleStats s = sample_stats({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0});
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.stddev, 2.138089935, 1e-9);  // sqrt(32 / 7)
  EXPECT_EQ(sample_stats({3.0}).stddev, 0.0);
  EXPECT_EQ(sample_stats({}).mean, 0.0);
}

}  // namespace
}  // namespace inference::perf
