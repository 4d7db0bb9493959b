// LoRA through the public contract on the native backend: requests with different adapters in
// one batch give the tokens each gets alone (AdapterModel, GenerateConfig::adapter_scales), and
// the TrainableModel capability trains, evaluates and saves an adapter that loads back. The
// adapter is the reference one of ../shared/testdata/lora (it changes the micro model's output,
// which is asserted, so no test here can pass with the adapter ignored).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "inference/capabilities.hpp"
#include "inference/inference.hpp"
#include "inference/trainable_model.hpp"
#include "support/testdata.hpp"

namespace inference {
namespace {

std::filesystem::path model_file() {
  return test::testdata_dir() / "models" / "mistral" / "mistral-F32.gguf";
}
std::filesystem::path lora_dir() {
  return test::testdata_dir() / "lora";
}

std::unique_ptr<TextModel> load(std::vector<AdapterConfig> adapters, int32_t slots = 4,
                                bool merge = false) {
  return load_model(model_file(), {.backend = "native",
                                   .context_length = 96,
                                   .parallel_slots = slots,
                                   .threads = 1,
                                   .adapters = std::move(adapters),
                                   .merge_adapters = merge});
}

std::vector<int32_t> ids_of(TokenStream& stream) {
  std::vector<int32_t> ids;
  for (const Token& t : stream)
    if (t.id >= 0) ids.push_back(t.id);
  EXPECT_TRUE(stream.err().ok()) << stream.err().message;
  return ids;
}

const std::vector<int32_t> kPrompt = {1, 416, 320, 432, 167, 129, 27, 462};

GenerateConfig with_scales(std::vector<float> scales) {
  return {.max_tokens = 12, .ignore_eos = true, .adapter_scales = std::move(scales)};
}

TEST(NativeLora, AdapterModelListsTheUnmergedAdapters) {
  INFERENCE_REQUIRE_TESTDATA();
  const std::string gguf = (lora_dir() / "adapter.gguf").string();
  const std::string peft = (lora_dir() / "peft").string();
  auto model = load({{gguf, 1.0f}, {peft, 0.5f}});
  auto* adapters = dynamic_cast<AdapterModel*>(model.get());
  ASSERT_NE(adapters, nullptr);
  const auto list = adapters->adapters();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].path, gguf);
  EXPECT_EQ(list[0].scale, 1.0f);
  EXPECT_EQ(list[1].path, peft);
  EXPECT_EQ(list[1].scale, 0.5f);
  // Merged adapters are part of the weights: nothing to choose per request.
  auto merged = load({{gguf, 1.0f}}, 1, true);
  EXPECT_TRUE(dynamic_cast<AdapterModel*>(merged.get())->adapters().empty());
}

// Four requests — adapter 0, adapter 1 at another scale, no adapter, the load-time scales —
// first one at a time, then as concurrent streams sharing every forward pass.
TEST(NativeLora, DifferentAdaptersInOneBatchMatchEachAlone) {
  INFERENCE_REQUIRE_TESTDATA();
  auto model =
      load({{(lora_dir() / "adapter.gguf").string(), 1.0f}, {(lora_dir() / "mlx").string(), 1.0f}});
  auto* tokens = dynamic_cast<TokenPromptModel*>(model.get());
  auto* stats = dynamic_cast<ServingStats*>(model.get());
  ASSERT_NE(tokens, nullptr);
  ASSERT_NE(stats, nullptr);
  const std::vector<GenerateConfig> configs = {with_scales({1.0f, 0.0f}),
                                               with_scales({0.0f, -2.0f}),
                                               with_scales({0.0f, 0.0f}), with_scales({})};
  std::vector<std::vector<int32_t>> alone;
  for (const auto& c : configs) {
    auto stream = tokens->generate_tokens(Context::background(), kPrompt, c);
    alone.push_back(ids_of(stream));
    ASSERT_EQ(alone.back().size(), 12u);
  }
  // The adapters really change the output (else this test could not fail).
  EXPECT_NE(alone[0], alone[2]);
  EXPECT_NE(alone[1], alone[2]);
  EXPECT_NE(alone[0], alone[1]);
  EXPECT_NE(alone[3], alone[2]);
  // The base equals a model loaded without adapters.
  {
    auto base = load({}, 1);
    auto stream = dynamic_cast<TokenPromptModel*>(base.get())
                      ->generate_tokens(Context::background(), kPrompt, with_scales({}));
    EXPECT_EQ(ids_of(stream), alone[2]);
  }

  const uint64_t steps_before = stats->serving_state().steps;
  std::vector<TokenStream> streams;
  for (const auto& c : configs)
    streams.push_back(tokens->generate_tokens(Context::background(), kPrompt, c));
  std::vector<std::vector<int32_t>> batched(configs.size());
  for (bool more = true; more;) {
    more = false;
    for (size_t i = 0; i < streams.size(); ++i) {
      Token t;
      if (streams[i].next(t)) {
        more = true;
        if (t.id >= 0) batched[i].push_back(t.id);
      }
    }
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    EXPECT_TRUE(streams[i].err().ok()) << streams[i].err().message;
    EXPECT_EQ(batched[i], alone[i]) << "request " << i;
  }
  // One batch: far fewer forward passes than the 4 × 12 tokens run one request at a time.
  EXPECT_LT(stats->serving_state().steps - steps_before, 30u);
}

TEST(NativeLora, BadAdapterScalesEndTheStreamWithAClearError) {
  INFERENCE_REQUIRE_TESTDATA();
  auto model = load({{(lora_dir() / "adapter.gguf").string(), 1.0f}});
  auto* tokens = dynamic_cast<TokenPromptModel*>(model.get());
  auto too_many = tokens->generate_tokens(Context::background(), kPrompt, with_scales({1, 1}));
  for ([[maybe_unused]] const Token& t : too_many) {
  }
  EXPECT_EQ(too_many.err().code, ErrorCode::invalid_argument);
  EXPECT_NE(too_many.err().message.find("adapter"), std::string::npos) << too_many.err().message;
}

std::vector<TrainExample> training_set(TrainableModel& t) {
  std::vector<TrainExample> out;
  for (const char* text : {"the quick brown fox jumps over the lazy dog",
                           "a stitch in time saves nine, said the old tailor"}) {
    TrainExample e;
    e.tokens = t.encode(text);
    e.mask.assign(e.tokens.size(), 1);
    out.push_back(std::move(e));
  }
  return out;
}

TEST(NativeLora, TrainableModelTrainsSavesAndTheAdapterLoadsBack) {
  INFERENCE_REQUIRE_TESTDATA();
  auto model = load({}, 1);
  auto* trainable = dynamic_cast<TrainableModel*>(model.get());
  ASSERT_NE(trainable, nullptr);
  const auto data = training_set(*trainable);
  EXPECT_FALSE(trainable->decode(data[0].tokens).empty());

  trainable->apply_lora({.rank = 4, .alpha = 8, .targets = {"q_proj", "v_proj", "up_proj"}});
  // B starts at zero: the adapter changes nothing before training.
  const double before = trainable->evaluate_loss(data);
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    const TrainStepResult r = trainable->train_step(data, {.learning_rate = 3e-2});
    EXPECT_EQ(r.step, step + 1);
    EXPECT_GT(r.trained_tokens, 0);
    if (step == 0) first = r.loss;
    last = r.loss;
  }
  EXPECT_NEAR(first, before, 1e-4);
  const double after = trainable->evaluate_loss(data);
  EXPECT_LT(after, 0.5 * before) << "before " << before << " last step " << last;

  const auto dir = test::make_temp_dir("trainable_model");
  trainable->save_adapter(dir / "adapter");
  ASSERT_TRUE(std::filesystem::exists(dir / "adapter" / "adapter_config.json"));
  ASSERT_TRUE(std::filesystem::exists(dir / "adapter" / "adapter_model.safetensors"));

  // The saved adapter, loaded for serving, scores the training text as the trainer does.
  auto base = load({}, 1);
  auto served = load({{(dir / "adapter").string(), 1.0f}}, 1);
  auto score = [&](TextModel& m) {
    auto* lp = dynamic_cast<LogprobModel*>(&m);
    EXPECT_NE(lp, nullptr);
    const std::vector<ScoreRequest> req = {{"the quick", " brown fox jumps over the lazy dog"}};
    return lp->score_continuations(Context::background(), req).at(0).total;
  };
  EXPECT_GT(score(*served), score(*base) + 1.0);
  std::filesystem::remove_all(dir);
}

TEST(NativeLora, TrainableModelRefusesMisuseWithClearErrors) {
  INFERENCE_REQUIRE_TESTDATA();
  auto model = load({}, 1);
  auto* trainable = dynamic_cast<TrainableModel*>(model.get());
  ASSERT_NE(trainable, nullptr);
  const auto data = training_set(*trainable);
  EXPECT_THROW(trainable->train_step(data), Error);  // no adapter yet
  EXPECT_THROW(trainable->save_adapter(test::make_temp_dir("unused")), Error);
  EXPECT_THROW(trainable->apply_lora({.targets = {"lm_head"}}), Error);
  EXPECT_THROW(trainable->apply_lora({.rank = 0}), Error);
  trainable->apply_lora({});
  EXPECT_THROW(trainable->train_step({}), Error);
  TrainExample masked_out = data[0];
  masked_out.mask.assign(masked_out.mask.size(), 0);
  EXPECT_THROW(trainable->train_step(std::span(&masked_out, 1)), Error);
  TrainExample mismatched = data[0];
  mismatched.mask.pop_back();
  try {
    trainable->train_step(std::span(&mismatched, 1));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("mask"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace inference
