#include <gtest/gtest.h>

#include "ml/summary.hpp"

namespace inference::ml {
namespace {

TEST(Summary, AveragesSkipAbsentFields) {
  std::vector<nlohmann::json> items = {
      {{"id", "1"},
       {"model", "a"},
       {"heuristic", {{"lek_score", 0.5}}},
       {"exact", {{"correct", true}, {"extracted", 3.0}}}},
      {{"id", "2"},
       {"model", "a"},
       {"heuristic", {{"lek_score", 0.25}}},
       {"semantic_error", "bad"}},
      {{"id", "3"}, {"model", "b"}, {"semantic", {{"sovereignty", 4.0}, {"reasoning", "x"}}}},
      {{"id", "4"}, {"model", "b"}, {"perplexity", {{"tokens", 10}, {"nll", 10.0}}}},
      {{"id", "5"}, {"model", "b"}, {"perplexity", {{"tokens", 30}, {"nll", 50.0}}}},
  };
  const auto s = build_summary(items, {{"judge", nullptr}});
  const auto& a = s["model_averages"]["a"];
  EXPECT_DOUBLE_EQ(a["heuristic.lek_score"].get<double>(), 0.375);
  EXPECT_DOUBLE_EQ(a["exact.correct"].get<double>(), 1.0);  // one item has exact, not two
  EXPECT_FALSE(a.contains("exact.extracted"));
  EXPECT_FALSE(a.contains("semantic.sovereignty"));
  const auto& b = s["model_averages"]["b"];
  EXPECT_DOUBLE_EQ(b["semantic.sovereignty"].get<double>(), 4.0);
  EXPECT_NEAR(b["perplexity.perplexity"].get<double>(), std::exp(60.0 / 40.0), 1e-12);
  EXPECT_EQ(s["per_prompt"]["a"].size(), 2u);
  EXPECT_EQ(s["per_prompt"]["b"][0]["id"], "3");
}

TEST(Summary, CompareOldNewDelta) {
  nlohmann::json old_s = {{"model_averages", {{"a", {{"m1", 0.5}, {"m2", 1.0}}}}}};
  nlohmann::json new_s = {{"model_averages", {{"a", {{"m1", 0.75}}}, {"b", {{"m1", 2.0}}}}}};
  const auto c = compare_summaries(old_s, new_s);
  EXPECT_DOUBLE_EQ(c["a"]["m1"]["delta"].get<double>(), 0.25);
  EXPECT_TRUE(c["a"]["m2"]["new"].is_null());
  EXPECT_TRUE(c["a"]["m2"]["delta"].is_null());
  EXPECT_TRUE(c["b"]["m1"]["old"].is_null());
  const std::string text = format_comparison(c);
  EXPECT_NE(text.find("+0.2500"), std::string::npos);
}

}  // namespace
}  // namespace inference::ml
