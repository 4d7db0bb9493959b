// Continuous batching on real reference models: a sequence's tokens do not depend on what else
// shares its forward passes (greedy and seeded sampling), streams from many threads, and one
// stream's cancellation leaves the others untouched.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "inference/capabilities.hpp"
#include "inference/inference.hpp"
#include "support/testdata.hpp"

namespace inference {
namespace {

std::filesystem::path model_path(const std::string& family, const std::string& file) {
  return test::testdata_dir() / "models" / family / file;
}

// Micro-vocabulary prompts (ids < 512) of different lengths, so sequences in one batch are at
// different positions and prefill in chunks of different sizes.
std::vector<std::vector<int32_t>> prompts() {
  return {{1, 416, 320, 432, 167, 129, 27, 462},
          {1, 67, 400, 339},
          {1, 256, 287, 374, 354, 96, 303, 356, 241, 57, 257, 77, 392, 374, 301, 275, 342, 100},
          {1, 300},
          {1, 45, 36, 496, 292, 482},
          {1, 452, 197, 299, 131, 300, 360},
          {1, 342, 307, 462, 45},
          {1, 129, 27, 462, 67, 400, 339, 53, 493}};
}

// `packed`: the native option packed_weights (every fixed-path row on the panel GEMM).
std::unique_ptr<TextModel> load(const std::filesystem::path& path, int32_t slots,
                                bool packed = false) {
  LoadConfig config{
      .backend = "native", .context_length = 96, .parallel_slots = slots, .threads = 1};
  if (packed) config.options["packed_weights"] = "true";
  return load_model(path, config);
}

std::vector<int32_t> ids_of(TokenStream& stream) {
  std::vector<int32_t> ids;
  for (const Token& t : stream)
    if (t.id >= 0) ids.push_back(t.id);
  EXPECT_TRUE(stream.err().ok()) << stream.err().message;
  return ids;
}

GenerateConfig config_for(size_t i, bool sampled) {
  GenerateConfig c{.max_tokens = 10, .ignore_eos = true};
  if (sampled) {
    c.temperature = 0.9f;
    c.top_k = 40;
    c.seed = 1000 + i;
  }
  return c;
}

// Each prompt alone (one slot busy at a time), then all of them as concurrent streams pulled
// round-robin, so every step is one forward pass over all running sequences.
void expect_batch_invariant(const std::filesystem::path& path, bool sampled, bool packed = false) {
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  const auto ps = prompts();
  auto model = load(path, static_cast<int32_t>(ps.size()), packed);
  auto* tokens = dynamic_cast<TokenPromptModel*>(model.get());
  auto* stats = dynamic_cast<ServingStats*>(model.get());
  ASSERT_NE(tokens, nullptr);
  ASSERT_NE(stats, nullptr);
  std::vector<std::vector<int32_t>> alone;
  for (size_t i = 0; i < ps.size(); ++i) {
    auto stream = tokens->generate_tokens(Context::background(), ps[i], config_for(i, sampled));
    alone.push_back(ids_of(stream));
  }
  // The slots now hold those sequences' caches; reusing a cached prefix must not change tokens
  // either.
  const uint64_t steps_before = stats->serving_state().steps;
  std::vector<TokenStream> streams;
  for (size_t i = 0; i < ps.size(); ++i)
    streams.push_back(
        tokens->generate_tokens(Context::background(), ps[i], config_for(i, sampled)));
  std::vector<std::vector<int32_t>> batched(ps.size());
  bool more = true;
  while (more) {
    more = false;
    for (size_t i = 0; i < streams.size(); ++i) {
      Token t;
      if (streams[i].next(t)) {
        more = true;
        if (t.id >= 0) batched[i].push_back(t.id);
      }
    }
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_TRUE(streams[i].err().ok()) << streams[i].err().message;
    EXPECT_EQ(batched[i], alone[i]) << path.filename() << " prompt " << i;
    EXPECT_EQ(streams[i].metrics().generated_tokens, 10);
    EXPECT_EQ(streams[i].finish_reason(), FinishReason::length);
  }
  // Shared forward passes: far fewer steps than tokens (8 streams × 10 tokens).
  EXPECT_LT(stats->serving_state().steps - steps_before, 30u);

  // Nothing cached, and streams joining others that decode: three start, take a token each,
  // then five more join, so one step carries 3 generated rows and 29 prompt tokens of 5
  // sequences (32 rows: past every GEMM threshold of an unmarked batch).
  auto fresh = load(path, static_cast<int32_t>(ps.size()), packed);
  auto* fresh_tokens = dynamic_cast<TokenPromptModel*>(fresh.get());
  std::vector<TokenStream> joined;
  std::vector<std::vector<int32_t>> got(ps.size());
  auto pull = [&](size_t i) {
    Token t;
    if (!joined[i].next(t)) return false;
    if (t.id >= 0) got[i].push_back(t.id);
    return true;
  };
  for (size_t i = 0; i < 3; ++i)
    joined.push_back(
        fresh_tokens->generate_tokens(Context::background(), ps[i], config_for(i, sampled)));
  for (size_t i = 0; i < 3; ++i) pull(i);
  for (size_t i = 3; i < ps.size(); ++i)
    joined.push_back(
        fresh_tokens->generate_tokens(Context::background(), ps[i], config_for(i, sampled)));
  for (more = true; more;) {
    more = false;
    for (size_t i = 0; i < joined.size(); ++i) more = pull(i) || more;
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_TRUE(joined[i].err().ok()) << joined[i].err().message;
    EXPECT_EQ(got[i], alone[i]) << path.filename() << " prompt " << i << " (joining)";
  }
}

// Every reference file, quantised ones included: the scheduler marks its entries
// (engine::RowKind), so a generated token always takes the row-vector kernels and a prompt token
// the prompt kernels, whatever else shares the step. The micro models are deliberately
// sensitive (a rounding difference of 1e-6 can flip a later greedy near-tie), which is what
// makes them a good check of bit-exactness.
std::vector<std::pair<std::string, std::string>> every_reference_file() {
  return {{"llama", "llama-F32.gguf"},        {"llama", "llama-F16.gguf"},
          {"llama", "llama-BF16.gguf"},       {"llama", "llama-Q8_0.gguf"},
          {"llama", "llama-Q6_K.gguf"},       {"llama", "llama-Q5_K_M.gguf"},
          {"llama", "llama-Q4_K_M.gguf"},     {"llama", "llama-Q4_0.gguf"},
          {"mistral", "mistral-F32.gguf"},    {"mistral", "mistral-Q8_0.gguf"},
          {"mistral", "mistral-Q5_K_M.gguf"}, {"mistral", "mistral-Q4_K_M.gguf"},
          {"qwen2", "qwen2-F32.gguf"},        {"qwen2", "qwen2-Q8_0.gguf"},
          {"qwen2", "qwen2-Q4_K_M.gguf"},     {"qwen2", "qwen2-Q4_0.gguf"},
          {"qwen3", "qwen3-F32.gguf"},        {"qwen3", "qwen3-Q6_K.gguf"},
          {"qwen3", "qwen3-Q4_K_M.gguf"},     {"gemma3", "gemma3-F32.gguf"},
          {"gemma3", "gemma3-Q4_K_M.gguf"}};
}

TEST(NativeBatching, GreedyTokensDoNotDependOnTheBatch) {
  INFERENCE_REQUIRE_TESTDATA();
  for (const auto& [family, file] : every_reference_file()) {
    SCOPED_TRACE(file);
    expect_batch_invariant(model_path(family, file), /*sampled=*/false);
  }
}

TEST(NativeBatching, SeededSamplingDoesNotDependOnTheBatch) {
  INFERENCE_REQUIRE_TESTDATA();
  expect_batch_invariant(model_path("llama", "llama-Q4_K_M.gguf"), /*sampled=*/true);
  expect_batch_invariant(model_path("mistral", "mistral-Q8_0.gguf"), /*sampled=*/true);
  expect_batch_invariant(model_path("qwen2", "qwen2-Q4_0.gguf"), /*sampled=*/true);
  expect_batch_invariant(model_path("gemma3", "gemma3-F32.gguf"), /*sampled=*/true);
}

// With packed weights every row of a step (generated and prompt alike) takes the panel GEMM,
// whose rows do not depend on each other: the same invariance, on every quantised file (the
// float ones have no panel form and keep the fixed paths).
TEST(NativeBatching, PackedWeightsKeepTokensIndependentOfTheBatch) {
  INFERENCE_REQUIRE_TESTDATA();
  for (const auto& [family, file] : every_reference_file()) {
    if (file.find("F32") != std::string::npos || file.find("F16") != std::string::npos) continue;
    SCOPED_TRACE(file);
    expect_batch_invariant(model_path(family, file), /*sampled=*/false, /*packed=*/true);
  }
  expect_batch_invariant(model_path("llama", "llama-Q4_K_M.gguf"), /*sampled=*/true,
                         /*packed=*/true);
}

TEST(NativeBatching, EightStreamsFromEightThreads) {
  INFERENCE_REQUIRE_TESTDATA();
  // A quantised file: whatever the prompt chunks of a step add up to (steps here can hold more
  // than 16 prompt tokens, the GEMM threshold), each row keeps the kernels of its kind.
  const auto path = model_path("mistral", "mistral-Q8_0.gguf");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  const auto ps = prompts();
  auto model = load(path, 8);
  auto* tokens = dynamic_cast<TokenPromptModel*>(model.get());
  std::vector<std::vector<int32_t>> alone;
  for (size_t i = 0; i < ps.size(); ++i) {
    auto stream = tokens->generate_tokens(Context::background(), ps[i], config_for(i, false));
    alone.push_back(ids_of(stream));
  }
  std::vector<std::vector<int32_t>> got(ps.size());
  std::vector<Status> status(ps.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < ps.size(); ++i) {
    threads.emplace_back([&, i] {
      auto stream = tokens->generate_tokens(Context::background(), ps[i], config_for(i, false));
      for (const Token& t : stream)
        if (t.id >= 0) got[i].push_back(t.id);
      status[i] = stream.err();
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_TRUE(status[i].ok()) << status[i].message;
    EXPECT_EQ(got[i], alone[i]) << "thread " << i;
  }
  auto* stats = dynamic_cast<ServingStats*>(model.get());
  const ServingState s = stats->serving_state();
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.queued, 0);
  for (const auto& slot : s.slots) EXPECT_FALSE(slot.is_processing) << "slot " << slot.id;
}

TEST(NativeBatching, CancellingOneStreamLeavesTheOthersUntouched) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto path = model_path("llama", "llama-Q4_K_M.gguf");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  const auto ps = prompts();
  auto model = load(path, 2);
  auto* tokens = dynamic_cast<TokenPromptModel*>(model.get());
  auto solo = tokens->generate_tokens(Context::background(), ps[1], config_for(1, false));
  const auto expected = ids_of(solo);

  auto ctx = Context::background().with_cancel();
  auto victim = tokens->generate_tokens(ctx, ps[0], config_for(0, false));
  auto survivor = tokens->generate_tokens(Context::background(), ps[1], config_for(1, false));
  std::vector<int32_t> got;
  Token t;
  ASSERT_TRUE(victim.next(t));
  ASSERT_TRUE(survivor.next(t));
  got.push_back(t.id);
  ctx.cancel();
  while (survivor.next(t)) got.push_back(t.id);
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(victim.next(t));
  EXPECT_EQ(victim.err().code, ErrorCode::cancelled);
  EXPECT_EQ(victim.finish_reason(), FinishReason::cancelled);
  auto* stats = dynamic_cast<ServingStats*>(model.get());
  EXPECT_EQ(stats->serving_state().active, 0);
}

TEST(NativeBatching, BatchGenerateMatchesSequentialStreams) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto path = test::testdata_dir() / "models" / "e2e" / "e2e-bpe-gpt2-Q8_0.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  auto model = load(path, 3);
  const std::vector<std::string> texts = {"Hello", "The sea is", "Once upon a time", "1, 2, 3,"};
  const GenerateConfig config{.max_tokens = 6, .ignore_eos = true};
  std::vector<std::string> alone;
  for (const auto& text : texts) {
    std::string out;
    auto stream = model->generate(Context::background(), text, config);
    for (const Token& t : stream) out += t.text;
    alone.push_back(out);
  }
  const auto results = model->batch_generate(Context::background(), texts, config);
  ASSERT_EQ(results.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_TRUE(results[i].status.ok()) << results[i].status.message;
    EXPECT_EQ(results[i].text, alone[i]) << texts[i];
    EXPECT_EQ(results[i].tokens.size(), 6u);
  }
}

}  // namespace
}  // namespace inference
