// LoRA adapters against the reference: ../shared/testdata/lora holds one adapter for the
// mistral-F32 micro model in three formats (GGUF, PEFT, mlx-lm) and llama.cpp's logits of the
// base with that adapter merged in. Every format, unmerged and merged, must reproduce them; a
// zero scale must give the base exactly; per-sequence scales must not leak across sequences.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/engine.hpp"
#include "engine/lora/lora_adapter.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

std::filesystem::path lora_dir() {
  return test::testdata_dir() / "lora";
}

std::unique_ptr<Engine> load(std::vector<AdapterConfig> adapters, bool merge = false,
                             int32_t n_seq = 1, const char* model = "mistral/mistral-F32.gguf") {
  ModelLoadOptions options;
  options.context_length = 128;
  options.kv_cache_type = "f32";
  options.threads = 1;
  options.n_sequences = n_seq;
  options.adapters = std::move(adapters);
  options.merge_adapters = merge;
  return Engine::load(test::testdata_dir() / "models" / model, options);
}

struct Sequence {
  std::vector<int32_t> tokens;
  std::vector<float> last_logits;
};

std::vector<Sequence> golden_sequences() {
  auto golden = nlohmann::json::parse(test::read_file(lora_dir() / "golden.json"));
  std::vector<Sequence> out;
  for (const auto& s : golden["sequences"]) {
    Sequence seq;
    seq.tokens = s["tokens"].get<std::vector<int32_t>>();
    const std::string bytes = test::read_file(lora_dir() / s["last_logits"].get<std::string>());
    seq.last_logits.resize(bytes.size() / 4);
    std::memcpy(seq.last_logits.data(), bytes.data(), bytes.size());
    out.push_back(std::move(seq));
  }
  return out;
}

std::vector<float> last_row(Engine& engine, const std::vector<int32_t>& tokens, int32_t seq = 0) {
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i)
    batch.push_back({tokens[i], static_cast<int32_t>(i), seq, i + 1 == tokens.size()});
  std::vector<float> logits;
  engine.decode(Context::background(), batch, logits);
  return logits;
}

// KL(reference ‖ test) of the softmax distributions, in nats.
double kl(const std::vector<float>& ref, const std::vector<float>& test) {
  auto log_softmax = [](const std::vector<float>& x) {
    double max = x[0];
    for (float v : x) max = std::max<double>(max, v);
    double sum = 0;
    for (float v : x) sum += std::exp(v - max);
    std::vector<double> out(x.size());
    for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] - max - std::log(sum);
    return out;
  };
  const auto p = log_softmax(ref), q = log_softmax(test);
  double d = 0;
  for (size_t i = 0; i < p.size(); ++i) d += std::exp(p[i]) * (p[i] - q[i]);
  return d;
}

class LoraFormats : public ::testing::TestWithParam<const char*> {};

TEST_P(LoraFormats, UnmergedAndMergedMatchTheReference) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto path = lora_dir() / GetParam();
  for (bool merge : {false, true}) {
    auto engine = load({{path.string(), 1.0f}}, merge);
    for (const Sequence& s : golden_sequences()) {
      engine->truncate_sequence(0, 0);
      const auto row = last_row(*engine, s.tokens);
      ASSERT_EQ(row.size(), s.last_logits.size());
      EXPECT_LE(kl(s.last_logits, row), 1e-5) << GetParam() << (merge ? " merged" : " unmerged");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Lora, LoraFormats, ::testing::Values("adapter.gguf", "peft", "mlx"));

TEST(Lora, TheAdapterChangesTheLogits) {
  INFERENCE_REQUIRE_TESTDATA();
  // Guards the reference test above: without the adapter the base is far from the reference.
  auto base = load({});
  const auto s = golden_sequences().front();
  EXPECT_GT(kl(s.last_logits, last_row(*base, s.tokens)), 1e-3);
}

TEST(Lora, ZeroScaleGivesTheBaseExactly) {
  INFERENCE_REQUIRE_TESTDATA();
  auto base = load({});
  auto zero = load({{(lora_dir() / "peft").string(), 0.0f}});
  const auto s = golden_sequences().back();
  EXPECT_EQ(last_row(*base, s.tokens), last_row(*zero, s.tokens));
}

TEST(Lora, PerSequenceScalesInOneBatch) {
  INFERENCE_REQUIRE_TESTDATA();
  auto base = load({});
  auto engine = load({{(lora_dir() / "adapter.gguf").string(), 1.0f}}, false, 2);
  EXPECT_EQ(engine->n_adapters(), 1);
  const float off = 0.0f;
  engine->set_adapter_scales(1, std::span(&off, 1));
  const auto s = golden_sequences().front();
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    const bool last = i + 1 == s.tokens.size();
    batch.push_back({s.tokens[i], static_cast<int32_t>(i), 0, last});
    batch.push_back({s.tokens[i], static_cast<int32_t>(i), 1, last});
  }
  std::vector<float> logits;
  engine->decode(Context::background(), batch, logits);
  const size_t n = s.last_logits.size();
  const std::vector<float> with(logits.begin(), logits.begin() + static_cast<long>(n));
  const std::vector<float> without(logits.begin() + static_cast<long>(n), logits.end());
  EXPECT_LE(kl(s.last_logits, with), 1e-5);
  EXPECT_EQ(without, last_row(*base, s.tokens));
}

TEST(Lora, ChangingScalesDropsTheCachedPrefix) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load({{(lora_dir() / "mlx").string(), 1.0f}});
  const auto s = golden_sequences().front();
  last_row(*engine, s.tokens);
  EXPECT_EQ(engine->sequence_length(0), static_cast<int32_t>(s.tokens.size()));
  const float same = 1.0f, half = 0.5f;
  engine->set_adapter_scales(0, std::span(&same, 1));
  EXPECT_EQ(engine->sequence_length(0), static_cast<int32_t>(s.tokens.size()));
  engine->set_adapter_scales(0, std::span(&half, 1));
  EXPECT_EQ(engine->sequence_length(0), 0);
  const float two[] = {1.0f, 1.0f};
  EXPECT_THROW(engine->set_adapter_scales(0, two), Error);
}

TEST(Lora, AnAdapterForAnotherModelNamesTheTensor) {
  INFERENCE_REQUIRE_TESTDATA();
  // The mistral adapter's shapes fit the llama micro model (same sizes) but not gemma3's.
  try {
    load({{(lora_dir() / "peft").string(), 1.0f}}, false, 1, "gemma3/gemma3-F32.gguf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("do not fit this model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("layer 0"), std::string::npos) << e.what();
  }
}

TEST(Lora, MissingAndMalformedAdaptersAreClearErrors) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto dir = test::make_temp_dir("lora_bad");
  EXPECT_THROW(load({{(dir / "nope.gguf").string(), 1.0f}}), Error);
  EXPECT_THROW(load({{dir.string(), 1.0f}}), Error);  // no adapter files
  {
    std::ofstream(dir / "adapter_config.json") << "{\"r\": 4}";
    std::ofstream(dir / "adapter_model.safetensors") << "garbage";
  }
  try {
    load({{dir.string(), 1.0f}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lora_alpha"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(Lora, PermutationRoundTrips) {
  std::vector<float> rows(2 * 8 * 3);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i);
  auto copy = rows;
  permute_qk_rows(copy, 2, 8, 3, true);
  EXPECT_NE(copy, rows);
  // HF row (head 0, j = 1, i = 0) = row 4 lands on GGUF row 1.
  EXPECT_EQ(copy[1 * 3], rows[4 * 3]);
  permute_qk_rows(copy, 2, 8, 3, false);
  EXPECT_EQ(copy, rows);
}

}  // namespace
}  // namespace inference::engine
