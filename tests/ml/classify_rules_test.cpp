// Label matching rules and prompt templates of `infer classify`.
#include <gtest/gtest.h>

#include "inference/error.hpp"
#include "ml/classifier.hpp"
#include "ml/label_match.hpp"

namespace inference::ml {
namespace {

const std::vector<std::string> kLabels = {"technical", "creative", "ethical", "casual"};

TEST(LabelMatch, WholeWordCaseInsensitive) {
  EXPECT_EQ(match_label(" Technical", kLabels), "technical");
  EXPECT_EQ(match_label("CASUAL.", kLabels), "casual");
  EXPECT_EQ(match_label("\xE2\x96\x81"
                        "ethical",
                        kLabels),
            "ethical");  // SentencePiece space
}

TEST(LabelMatch, UnambiguousPrefixFragment) {
  EXPECT_EQ(match_label(" tech", kLabels), "technical");
  EXPECT_EQ(match_label("Cre", kLabels), "creative");
  EXPECT_EQ(match_label("eth", kLabels), "ethical");
  EXPECT_EQ(match_label("cas", kLabels), "casual");
}

TEST(LabelMatch, NeverAWrongLabel) {
  EXPECT_EQ(match_label("castle", kLabels), "unknown");
  EXPECT_EQ(match_label("c", kLabels), "unknown");  // creative or casual
  EXPECT_EQ(match_label("e", kLabels), "unknown");  // too short to trust
  EXPECT_EQ(match_label("technically", kLabels), "unknown");
  EXPECT_EQ(match_label("", kLabels), "unknown");
  EXPECT_EQ(match_label(" \n", kLabels), "unknown");
  EXPECT_EQ(match_label("The", kLabels), "unknown");
}

TEST(LabelMatch, AmbiguousWhenTwoLabelsShareThePrefix) {
  const std::vector<std::string> labels = {"science", "scifi"};
  EXPECT_EQ(match_label("sc", labels), "unknown");
  EXPECT_EQ(match_label("sci", labels), "unknown");
  EXPECT_EQ(match_label("scie", labels), "science");
}

TEST(ClassifyPrompt, TemplateFilling) {
  const auto p = build_classify_prompt(default_classify_template(), kLabels, "Fix the {bug}");
  EXPECT_NE(p.find("technical, creative, ethical, casual"), std::string::npos);
  EXPECT_NE(p.find("Text: Fix the {bug}"), std::string::npos);
  EXPECT_TRUE(p.ends_with("Category:"));
  EXPECT_EQ(build_classify_prompt("[{text}] ->", kLabels, "{labels}"), "[{labels}] ->");
  EXPECT_THROW(build_classify_prompt("no placeholder", kLabels, "x"), Error);
}

TEST(ClassifyCalibration, AgreementConfusionAccuracy) {
  ClassifyReport a, b;
  a.labels = {"technical", "casual", "creative", std::nullopt, "casual"};
  b.labels = {"technical", "creative", "creative", "casual", "creative"};
  a.truth = {"technical", "casual", std::nullopt, std::nullopt, "creative"};
  const auto r = calibration_report(a, b);
  EXPECT_EQ(r["records"], 4);
  EXPECT_DOUBLE_EQ(r["agreement"].get<double>(), 0.5);
  ASSERT_EQ(r["confusion"].size(), 1u);
  EXPECT_EQ(r["confusion"][0]["a"], "casual");
  EXPECT_EQ(r["confusion"][0]["b"], "creative");
  EXPECT_EQ(r["confusion"][0]["count"], 2);
  EXPECT_EQ(r["truth_records"], 3);
  EXPECT_NEAR(r["accuracy_a"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r["accuracy_b"].get<double>(), 2.0 / 3.0, 1e-12);
}

}  // namespace
}  // namespace inference::ml
