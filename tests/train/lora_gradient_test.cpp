// The training forward pass against the inference engine, and the analytic LoRA gradients
// against central finite differences (in double) on the reference micro models, which between
// them use every layer feature: Llama-3 rope frequency factors (llama), q/k/v biases (qwen2),
// q/k norms (qwen3), sliding-window layers, post norms, GELU and embedding scale (gemma3).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/engine.hpp"
#include "support/testdata.hpp"
#include "train/lora_trainer.hpp"

namespace inference::train {
namespace {

const std::vector<int32_t> kTokens = {1, 416, 320, 432, 167, 129, 27, 462, 300, 12, 99, 250};

std::filesystem::path model(const std::string& dir) {
  return test::testdata_dir() / "models" / dir / (dir + "-F32.gguf");
}

class PerModel : public ::testing::TestWithParam<const char*> {};

TEST_P(PerModel, ForwardMatchesTheEngine) {
  INFERENCE_REQUIRE_TESTDATA();
  const std::string name = GetParam();
  LoraTrainer<double> trainer(model(name), 1);
  const auto ours = trainer.logits(kTokens);
  engine::ModelLoadOptions options;
  options.context_length = 64;
  options.kv_cache_type = "f32";
  options.threads = 1;
  auto engine = engine::Engine::load(model(name), options);
  std::vector<engine::BatchEntry> batch;
  for (size_t i = 0; i < kTokens.size(); ++i)
    batch.push_back({kTokens[i], static_cast<int32_t>(i), 0, true});
  std::vector<float> theirs;
  engine->decode(Context::background(), batch, theirs);
  ASSERT_EQ(ours.size(), theirs.size());
  // The engine evaluates GELU through the reference's F16 table; training uses the exact form.
  const double tolerance = name == "gemma3" ? 2e-2 : 1e-3;
  double worst = 0;
  for (size_t i = 0; i < ours.size(); ++i)
    worst = std::max(worst, std::abs(double(ours[i]) - theirs[i]));
  EXPECT_LT(worst, tolerance) << name;
}

TEST_P(PerModel, GradientsMatchFiniteDifferences) {
  INFERENCE_REQUIRE_TESTDATA();
  const std::string name = GetParam();
  LoraTrainer<double> trainer(model(name), 1);
  trainer.init(
      {.rank = 2,
       .alpha = 4.0f,
       .targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"},
       .seed = 7});
  // B starts at zero (so A has no gradient yet): give it values for the check.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.0, 0.05);
  for (auto& layer : trainer.lora().layers) {
    for (auto& m : layer) {
      if (!m) continue;
      for (double& b : m->b) b = normal(rng);
    }
  }
  std::vector<uint8_t> mask(kTokens.size(), 1);
  mask[0] = 0;
  mask[3] = 0;  // a position without loss
  trainer.zero_grad();
  trainer.accumulate(kTokens, mask, 1.0);
  int checked = 0;
  double worst = 0;
  const auto& layers = trainer.lora().layers;
  for (size_t il = 0; il < layers.size(); ++il) {
    // Gemma 3's six layers: its first (local) and last (global) stand for the others.
    if (layers.size() > 2 && il != 0 && il + 1 != layers.size()) continue;
    for (auto& m : trainer.lora().layers[il]) {
      if (!m) continue;
      for (int which = 0; which < 2; ++which) {
        auto& values = which ? m->b : m->a;
        const auto& grads = which ? m->grad_b : m->grad_a;
        for (int k = 0; k < 2; ++k) {
          const size_t i = (rng() % values.size());
          const double keep = values[i];
          const double h = 1e-5;
          values[i] = keep + h;
          const double up = trainer.loss(kTokens, mask);
          values[i] = keep - h;
          const double down = trainer.loss(kTokens, mask);
          values[i] = keep;
          const double numeric = (up - down) / (2 * h);
          const double error = std::abs(numeric - grads[i]) /
                               std::max({std::abs(numeric), std::abs(grads[i]), 1e-4});
          worst = std::max(worst, error);
          EXPECT_LE(error, 1e-3) << name << " analytic " << grads[i] << " numeric " << numeric;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
  RecordProperty("worst_relative_error", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(Train, PerModel, ::testing::Values("llama", "qwen2", "qwen3", "gemma3"));

TEST(LoraTrainer, GradientCheckpointingGivesTheSameGradients) {
  INFERENCE_REQUIRE_TESTDATA();
  auto grads = [](bool checkpointing) {
    LoraTrainer<float> trainer(model("qwen2"), 1);
    trainer.init(
        {.rank = 4, .alpha = 8.0f, .targets = {"q_proj", "v_proj", "down_proj"}, .seed = 1});
    for (auto& layer : trainer.lora().layers)
      for (auto& m : layer)
        if (m) std::fill(m->b.begin(), m->b.end(), 0.01f);
    trainer.set_gradient_checkpointing(checkpointing);
    std::vector<uint8_t> mask(kTokens.size(), 1);
    trainer.zero_grad();
    trainer.accumulate(kTokens, mask, 1.0);
    std::vector<float> all;
    for (auto& layer : trainer.lora().layers)
      for (auto& m : layer)
        if (m) {
          all.insert(all.end(), m->grad_a.begin(), m->grad_a.end());
          all.insert(all.end(), m->grad_b.begin(), m->grad_b.end());
        }
    return all;
  };
  EXPECT_EQ(grads(false), grads(true));
}

TEST(LoraTrainer, UnknownTargetsAndBadTokensAreErrors) {
  INFERENCE_REQUIRE_TESTDATA();
  LoraTrainer<float> trainer(model("llama"), 1);
  EXPECT_THROW(trainer.init({.targets = {"lm_head"}}), Error);
  EXPECT_THROW(trainer.init({.rank = 0}), Error);
  trainer.init({});
  const std::vector<int32_t> bad = {1, 100000};
  const std::vector<uint8_t> mask = {0, 1};
  EXPECT_THROW(trainer.loss(bad, mask), Error);
}

}  // namespace
}  // namespace inference::train
