// Training runs on the llama micro model: a small set is overfitted, checkpoints reload to the
// same matrices and logits, a cancelled run resumes to the same adapter as an uninterrupted one,
// and a resume with another configuration is refused.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.hpp"
#include "engine/lora/lora_adapter.hpp"
#include "support/testdata.hpp"
#include "train/lora_checkpoint.hpp"
#include "train/train_run.hpp"

namespace inference::train {
namespace {

std::filesystem::path micro(const std::string& name) {
  return test::testdata_dir() / "models" / name / (name + "-F32.gguf");
}

// 20 short sequences over the micro vocabulary; each teaches a fixed continuation.
TrainDataset overfit_set() {
  TrainDataset data;
  for (int i = 0; i < 20; ++i) {
    TrainExample e;
    e.tokens = {1, 300 + i, 301 + i, 400, 401, 402 + i % 3, 2};
    e.mask = {0, 0, 0, 1, 1, 1, 1};
    data.examples.push_back(e);
  }
  data.hash = 42;
  return data;
}

TrainRunConfig config_in(const std::filesystem::path& out, const char* model = "llama") {
  TrainRunConfig c;
  c.model = micro(model);
  c.out_dir = out;
  c.lora = {
      .rank = 4, .alpha = 8.0f, .targets = {"q_proj", "v_proj", "up_proj", "down_proj"}, .seed = 5};
  c.optimizer.learning_rate = 2e-2;
  c.optimizer.warmup_steps = 2;
  c.batch_size = 5;
  c.steps = 60;
  c.threads = 1;
  return c;
}

TEST(TrainRun, OverfitsASmallSet) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto out = test::make_temp_dir("train_overfit");
  const auto data = overfit_set();
  double first = -1;
  const auto summary =
      run_training(Context::background(), config_in(out), data, &data, [&](const TrainProgress& p) {
        if (first < 0) first = p.loss;
      });
  EXPECT_EQ(summary.steps, 60);
  EXPECT_GT(first, 1.0);
  EXPECT_LT(summary.final_loss, 0.1 * first) << "first " << first;
  ASSERT_TRUE(summary.valid_loss.has_value());
  EXPECT_LT(*summary.valid_loss, 0.2 * first);
  EXPECT_TRUE(std::filesystem::exists(out / "adapter_model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(out / "adapter_config.json"));
  std::filesystem::remove_all(out);
}

TEST(TrainRun, SavedAdapterReloadsBitForBitAndGivesTheSameLogits) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto out = test::make_temp_dir("train_reload");
  for (const char* model : {"llama", "qwen2"}) {  // permuted and un-permuted q/k rows
    LoraTrainer<float> trainer(micro(model), 1);
    trainer.init({.rank = 3,
                  .alpha = 6.0f,
                  .targets = {"q_proj", "k_proj", "o_proj", "gate_proj"},
                  .seed = 9});
    int k = 0;
    for (auto& layer : trainer.lora().layers)
      for (auto& m : layer)
        if (m)
          for (float& b : m->b) b = 0.01f * static_cast<float>((k++ % 17) - 8);
    save_peft_adapter(trainer.lora(), trainer.hparams(), trainer.qk_permuted(), "x", out);
    const auto bound = engine::bind_lora_adapter(engine::read_lora_adapter(out), trainer.hparams(),
                                                 trainer.qk_permuted(), 1.0f);
    EXPECT_FLOAT_EQ(bound.scale, trainer.lora().scale);
    for (size_t il = 0; il < bound.layers.size(); ++il) {
      for (size_t p = 0; p < engine::kProjections; ++p) {
        const auto& ours = trainer.lora().layers[il][p];
        const auto& loaded = bound.layers[il][p];
        ASSERT_EQ(ours.has_value(), loaded.has_value());
        if (!ours) continue;
        EXPECT_EQ(ours->a, loaded->a) << model;
        // The engine keeps B transposed (rank × out).
        ASSERT_EQ(ours->b.size(), loaded->b_t.size());
        for (int32_t o = 0; o < loaded->out; ++o)
          for (int32_t k = 0; k < loaded->rank; ++k)
            ASSERT_EQ(ours->b[static_cast<size_t>(o * loaded->rank + k)],
                      loaded->b_t[static_cast<size_t>(k * loaded->out + o)])
                << model << " B[" << o << "][" << k << "]";
      }
    }
    // The engine with the saved adapter computes what the trainer computes.
    const std::vector<int32_t> tokens = {1, 300, 301, 400, 401};
    const auto trained = trainer.logits(tokens);
    engine::ModelLoadOptions options;
    options.context_length = 32;
    options.kv_cache_type = "f32";
    options.threads = 1;
    options.adapters = {{out.string(), 1.0f}};
    auto engine = engine::Engine::load(micro(model), options);
    std::vector<engine::BatchEntry> batch;
    for (size_t i = 0; i < tokens.size(); ++i)
      batch.push_back({tokens[i], static_cast<int32_t>(i), 0, true});
    std::vector<float> served;
    engine->decode(Context::background(), batch, served);
    ASSERT_EQ(served.size(), trained.size());
    double worst = 0;
    for (size_t i = 0; i < served.size(); ++i)
      worst = std::max(worst, double(std::abs(served[i] - trained[i])));
    EXPECT_LT(worst, 1e-3) << model;
  }
  std::filesystem::remove_all(out);
}

TEST(TrainRun, ACancelledRunResumesToTheSameAdapter) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto data = overfit_set();
  const auto straight = test::make_temp_dir("train_straight");
  auto config = config_in(straight);
  config.steps = 8;
  config.save_every = 3;
  run_training(Context::background(), config, data, nullptr);

  const auto interrupted = test::make_temp_dir("train_resumed");
  config.out_dir = interrupted;
  auto ctx = Context::background().with_cancel();
  const auto first = run_training(ctx, config, data, nullptr, [&](const TrainProgress& p) {
    if (p.step == 5) ctx.cancel();
  });
  EXPECT_TRUE(first.cancelled);
  EXPECT_EQ(first.steps, 5);
  config.resume = true;
  const auto second = run_training(Context::background(), config, data, nullptr);
  EXPECT_EQ(second.resumed_from, 5);
  EXPECT_EQ(second.steps, 8);
  EXPECT_EQ(test::read_file(straight / "adapter_model.safetensors"),
            test::read_file(interrupted / "adapter_model.safetensors"));

  config.optimizer.learning_rate = 1e-3;  // another configuration: refused
  EXPECT_THROW(run_training(Context::background(), config, data, nullptr), Error);
  std::filesystem::remove_all(straight);
  std::filesystem::remove_all(interrupted);
}

TEST(TrainRun, ScheduleAndBadConfigurations) {
  OptimizerConfig o;
  o.learning_rate = 1.0;
  o.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 2, 10), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 4, 10), 1.0);
  EXPECT_NEAR(learning_rate_at(o, 7, 10), 0.5, 1e-12);  // half way down the cosine
  EXPECT_NEAR(learning_rate_at(o, 10, 10), 0.0, 1e-12);
  o.schedule = "constant";
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 9, 10), 1.0);

  INFERENCE_REQUIRE_TESTDATA();
  const auto out = test::make_temp_dir("train_bad");
  auto config = config_in(out);
  TrainDataset empty;
  EXPECT_THROW(run_training(Context::background(), config, empty, nullptr), Error);
  config.batch_size = 0;
  EXPECT_THROW(run_training(Context::background(), config, overfit_set(), nullptr), Error);
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace inference::train
