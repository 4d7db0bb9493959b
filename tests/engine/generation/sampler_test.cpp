#include "engine/generation/sampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "engine/generation/logprobs.hpp"

namespace inference::generation {
namespace {

std::vector<int32_t> draw_many(const GenerateConfig& config, const std::vector<float>& logits,
                               int n) {
  Sampler sampler(config, static_cast<int32_t>(logits.size()));
  sampler.reset({});
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(sampler.sample(logits));
  return out;
}

std::vector<float> log_probs(std::vector<float> p) {
  for (float& x : p) x = std::log(x);
  return p;
}

TEST(Sampler, GreedyTakesArgmaxWithTiesToLowestId) {
  Sampler sampler({}, 5);
  EXPECT_EQ(sampler.sample(std::vector<float>{0.f, 3.f, 1.f, 3.f, 2.f}), 1);
  EXPECT_EQ(argmax(std::vector<float>{-1.f, -1.f}), 0);
}

// The specified arg max, one element at a time: the lowest id of the largest non-NaN value.
int32_t first_largest(const std::vector<float>& v) {
  int32_t best = -1;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[i])) continue;
    if (best < 0 || v[i] > v[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  }
  return best < 0 ? 0 : best;
}

TEST(Sampler, ArgmaxOverAVocabularyAgreesWithALinearScan) {
  // Lengths around the 16-lane blocks; the largest value in a block, in the tail, tied across
  // lanes and blocks; NaN and infinities among the logits.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t n : {1u, 15u, 16u, 17u, 33u, 1000u, 128256u}) {
    for (size_t at : {size_t{0}, n / 3, n - 1}) {
      std::vector<float> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919) % 1009) * 0.01f - 5.f;
      v[at] = 100.f;
      if (n > 20) {
        v[n / 2 + 5] = 100.f;
        v[n / 4] = nan;
        v[n / 5] = -inf;
      }
      EXPECT_EQ(argmax(v), first_largest(v)) << "n " << n << ", largest at " << at;
    }
  }
  EXPECT_EQ(argmax(std::vector<float>{nan, 1.f, 2.f}), 2);
  EXPECT_EQ(argmax(std::vector<float>{1.f, inf, 2.f, inf}), 1);
  EXPECT_EQ(argmax(std::vector<float>(40, -inf)), 0);
  EXPECT_EQ(argmax(std::vector<float>(40, nan)), 0);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  const std::vector<float> flat(50, 0.0f);
  GenerateConfig a{.temperature = 1.0f, .seed = 42};
  GenerateConfig b{.temperature = 1.0f, .seed = 43};
  EXPECT_EQ(draw_many(a, flat, 100), draw_many(a, flat, 100));
  EXPECT_NE(draw_many(a, flat, 100), draw_many(b, flat, 100));
}

TEST(Sampler, ResetRestartsTheSequence) {
  const std::vector<float> flat(50, 0.0f);
  Sampler sampler({.temperature = 1.0f, .seed = 7}, 50);
  sampler.reset({});
  const int32_t first = sampler.sample(flat);
  sampler.sample(flat);
  sampler.reset({});
  EXPECT_EQ(sampler.sample(flat), first);
}

TEST(Sampler, DrawsFollowTheDistribution) {
  const auto draws = draw_many({.temperature = 1.0f, .seed = 1}, log_probs({0.7f, 0.3f}), 4000);
  int zeros = 0;
  for (int32_t t : draws) zeros += t == 0;
  EXPECT_GT(zeros, 2600);
  EXPECT_LT(zeros, 3000);
}

TEST(Sampler, TopKKeepsOnlyTheBestK) {
  const std::vector<float> logits{1.0f, 3.0f, 2.0f, 0.5f, 2.9f};
  std::set<int32_t> seen;
  for (int32_t t : draw_many({.temperature = 5.0f, .top_k = 2, .seed = 3}, logits, 300))
    seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{1, 4}));
  for (int32_t t : draw_many({.temperature = 100.0f, .top_k = 1}, logits, 50)) EXPECT_EQ(t, 1);
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
  const auto logits = log_probs({0.2f, 0.5f, 0.3f});
  std::set<int32_t> seen;
  for (int32_t t : draw_many({.temperature = 1.0f, .top_p = 0.5f, .seed = 5}, logits, 200))
    seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{1}));
  seen.clear();
  for (int32_t t : draw_many({.temperature = 1.0f, .top_p = 0.6f, .seed = 5}, logits, 300))
    seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{1, 2}));
}

TEST(Sampler, TopPOnALargeVocabularySortsBeyondTheFirstChunk) {
  // 1000 equal tokens: reaching p = 0.5 needs 500 of them, more than the first sorted chunk.
  std::vector<float> flat(1000, 0.0f);
  std::set<int32_t> seen;
  for (int32_t t : draw_many({.temperature = 1.0f, .top_p = 0.5f, .seed = 9}, flat, 2000))
    seen.insert(t);
  EXPECT_LE(*seen.rbegin(), 499);  // ties broken by lower id: ids 0..499 are the kept half
  EXPECT_GT(seen.size(), 300u);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheBest) {
  const auto logits = log_probs({0.5f, 0.3f, 0.2f});
  std::set<int32_t> seen;
  for (int32_t t : draw_many({.temperature = 1.0f, .min_p = 0.5f, .seed = 11}, logits, 300))
    seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
}

TEST(Sampler, LowTemperatureSharpensHighTemperatureFlattens) {
  const auto logits = log_probs({0.6f, 0.4f});
  int zeros_cold = 0, zeros_hot = 0;
  for (int32_t t : draw_many({.temperature = 0.1f, .seed = 2}, logits, 1000)) zeros_cold += t == 0;
  for (int32_t t : draw_many({.temperature = 10.0f, .seed = 2}, logits, 1000)) zeros_hot += t == 0;
  EXPECT_GT(zeros_cold, 950);
  EXPECT_GT(zeros_hot, 430);
  EXPECT_LT(zeros_hot, 570);
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  Sampler positive({.repeat_penalty = 2.0f}, 2);
  positive.reset(std::vector<int32_t>{0});
  EXPECT_EQ(positive.sample(std::vector<float>{2.0f, 1.9f}), 1);  // 2.0 / 2 = 1.0 < 1.9

  Sampler negative({.repeat_penalty = 1.5f}, 2);
  negative.reset(std::vector<int32_t>{0});
  EXPECT_EQ(negative.sample(std::vector<float>{-1.0f, -1.05f}), 1);  // -1.5 < -1.05
}

TEST(Sampler, RepeatPenaltyOnlyLooksAtTheLastN) {
  Sampler sampler({.repeat_penalty = 2.0f, .repeat_last_n = 2}, 3);
  sampler.reset(std::vector<int32_t>{0, 2, 2});  // token 0 is outside the window of 2
  EXPECT_EQ(sampler.sample(std::vector<float>{2.0f, 1.9f, 0.0f}), 0);
  Sampler whole({.repeat_penalty = 2.0f, .repeat_last_n = -1}, 3);
  whole.reset(std::vector<int32_t>{0, 2, 2});
  EXPECT_EQ(whole.sample(std::vector<float>{2.0f, 1.9f, 0.0f}), 1);
}

TEST(Sampler, RepeatPenaltyCountsEachTokenOnce) {
  Sampler sampler({.repeat_penalty = 2.0f}, 2);
  sampler.reset(std::vector<int32_t>{0, 0, 0});
  EXPECT_EQ(sampler.sample(std::vector<float>{2.0f, 0.9f}), 0);  // 1.0 once, not 0.25
}

TEST(Sampler, FrequencyPenaltyGrowsWithCount) {
  Sampler sampler({.frequency_penalty = 0.6f}, 2);
  sampler.reset({});
  const std::vector<float> logits{1.0f, 0.0f};
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits), 0);  // 1.0 - 0.6 = 0.4
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits), 1);  // 1.0 - 1.2 < 0
}

TEST(Sampler, PresencePenaltyIsFlatAndIgnoresThePrompt) {
  Sampler sampler({.presence_penalty = 2.0f}, 2);
  sampler.reset(std::vector<int32_t>{0, 0});  // OpenAI semantics: the prompt does not count
  const std::vector<float> logits{1.0f, 0.0f};
  EXPECT_EQ(sampler.sample(logits), 0);
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits), 1);
}

TEST(Sampler, RejectsInvalidConfigurationsNamingTheField) {
  auto message = [](const GenerateConfig& c) { return validate_generate_config(c, 10).message; };
  EXPECT_NE(message({.temperature = -1.0f}).find("temperature"), std::string::npos);
  EXPECT_NE(message({.temperature = NAN}).find("temperature"), std::string::npos);
  EXPECT_NE(message({.top_k = -1}).find("top_k"), std::string::npos);
  EXPECT_NE(message({.top_p = 0.0f}).find("top_p"), std::string::npos);
  EXPECT_NE(message({.top_p = 1.5f}).find("top_p"), std::string::npos);
  EXPECT_NE(message({.min_p = 2.0f}).find("min_p"), std::string::npos);
  EXPECT_NE(message({.repeat_penalty = 0.0f}).find("repeat_penalty"), std::string::npos);
  EXPECT_NE(message({.repeat_last_n = -2}).find("repeat_last_n"), std::string::npos);
  EXPECT_NE(message({.stop_tokens = {10}}).find("stop_tokens"), std::string::npos);
  EXPECT_NE(message({.stop = {""}}).find("stop"), std::string::npos);
  EXPECT_NE(message({.logprobs = 11}).find("logprobs"), std::string::npos);
  EXPECT_TRUE(validate_generate_config({}, 10).ok());
  EXPECT_THROW(Sampler({.top_p = 0.0f}, 10), Error);
}

TEST(Sampler, RejectsALogitsRowOfTheWrongSize) {
  Sampler sampler({}, 3);
  EXPECT_THROW(sampler.sample(std::vector<float>{1.0f, 2.0f}), Error);
}

TEST(Logprobs, AreTheLogSoftmaxOfTheRawRowBestFirst) {
  const std::vector<float> logits{1.0f, 3.0f, 3.0f, 0.0f};
  LogprobCalculator calc(4);
  calc.set_row(logits);
  double sum = 0;
  for (int32_t i = 0; i < 4; ++i) sum += std::exp(calc.logprob(i));
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_NEAR(calc.logprob(1) - calc.logprob(0), 2.0f, 1e-6);
  std::vector<IdLogprob> top;
  calc.top(3, top);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, 1);  // tie with id 2: lower id first
  EXPECT_EQ(top[1].id, 2);
  EXPECT_EQ(top[2].id, 0);
}

}  // namespace
}  // namespace inference::generation
