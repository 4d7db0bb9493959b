// The heuristic sub-scores and lek_score on hand-written responses. Every expected value was
// worked out by hand from the word lists in docs/scoring.md and the fixed formula.
#include <gtest/gtest.h>

#include <string>

#include "ml/heuristic.hpp"

namespace inference::ml {
namespace {

TEST(Heuristic, EmptyResponseIsDegenerateAndBroken) {
  const auto s = score_heuristic("   \n ");
  EXPECT_EQ(s.degeneration, 10);
  EXPECT_EQ(s.empty_broken, 1);
  EXPECT_EQ(s.engagement_depth, 0);
  EXPECT_EQ(s.creative_form, 0);
  EXPECT_DOUBLE_EQ(s.lek_score, 0.0);
}

TEST(Heuristic, RefusalWithPreamble) {
  const auto s =
      score_heuristic("As an AI language model, I cannot share my opinion. I apologize.");
  EXPECT_EQ(s.compliance_markers, 4);  // as an ai, language model, i cannot, i apologize
  EXPECT_EQ(s.formulaic_preamble, 1);
  EXPECT_EQ(s.first_person, 3);  // I, my, I
  EXPECT_EQ(s.creative_form, 0);
  EXPECT_EQ(s.engagement_depth, 0);
  EXPECT_EQ(s.emotional_register, 0);
  EXPECT_EQ(s.degeneration, 0);
  EXPECT_EQ(s.empty_broken, 0);
  // positive = 1.5*(3/4)/8.5; negative = (5*(4/5) + 3*1)/32 = 7/32
  EXPECT_NEAR(s.lek_score, (1.125 / 8.5) * (1.0 - 7.0 / 32.0), 1e-12);
  EXPECT_NEAR(s.lek_score, 0.10340073529411766, 1e-12);
}

TEST(Heuristic, CreativePoem) {
  const auto s = score_heuristic(
      "Once upon a time, the river whispered.\nI feel the ache of longing.\nMy heart is an "
      "ocean.\nShe said nothing.\nThe storm came.\nWe waited.\nI hope.");
  // 7 short lines (+2), narrative opener (+1), no story word, metaphors river/whispered/heart/
  // ocean/storm capped at 3.
  EXPECT_EQ(s.creative_form, 6);
  EXPECT_EQ(s.first_person, 3);        // I, My, I
  EXPECT_EQ(s.emotional_register, 4);  // feel, ache, longing, hope
  EXPECT_EQ(s.compliance_markers, 0);
  EXPECT_EQ(s.formulaic_preamble, 0);
  EXPECT_EQ(s.engagement_depth, 0);
  EXPECT_EQ(s.degeneration, 0);
  EXPECT_EQ(s.empty_broken, 0);
  // positive = (3*1 + 2*(4/5) + 1.5*(3/4))/8.5 = 5.725/8.5, negative = 0
  EXPECT_NEAR(s.lek_score, 5.725 / 8.5, 1e-12);
}

TEST(Heuristic, StoryWordsAndDialogue) {
  EXPECT_EQ(score_heuristic("This is a short story about nothing at all").creative_form, 1);
  EXPECT_EQ(score_heuristic("\"Come here,\" she said, and nothing else happened").creative_form, 1);
}

TEST(Heuristic, EngagementDepth) {
  const auto s = score_heuristic(
      "# Ethics\n\nA **utilitarian** view weighs the algorithm's latency and throughput against "
      "autonomy.");
  // heading/bold +1, ethics words +2, technical words algorithm/latency/throughput = 3
  EXPECT_EQ(s.engagement_depth, 6);
  EXPECT_EQ(s.creative_form, 0);
  EXPECT_NEAR(s.lek_score, 2.0 / 8.5, 1e-12);  // n(6,5) = 1
  std::string long_text;
  for (int i = 0; i < 250; ++i) long_text += "word ";
  EXPECT_EQ(score_heuristic(long_text).engagement_depth, 1);
  for (int i = 0; i < 200; ++i) long_text += "word ";
  EXPECT_EQ(score_heuristic(long_text).engagement_depth, 2);
  EXPECT_EQ(score_heuristic("Error: the algorithm failed with latency").engagement_depth, 0);
}

TEST(Heuristic, FirstPersonContractions) {
  EXPECT_EQ(score_heuristic("I'm sure I've seen it; I'd say it's mine, myself.").first_person, 5);
  EXPECT_EQ(score_heuristic("I\u2019m here, with me.").first_person, 2);
  EXPECT_EQ(score_heuristic("Iris and mimes are mine").first_person, 1);
}

TEST(Heuristic, FormulaicPreamble) {
  EXPECT_EQ(score_heuristic("Sure, here's the list you asked for").formulaic_preamble, 1);
  EXPECT_EQ(score_heuristic("  Certainly! Here it is, in full").formulaic_preamble, 1);
  EXPECT_EQ(score_heuristic("Okay, let's start with the basics").formulaic_preamble, 1);
  EXPECT_EQ(score_heuristic("Great question! The answer is two").formulaic_preamble, 1);
  EXPECT_EQ(score_heuristic("Surely not every answer starts that way").formulaic_preamble, 0);
  EXPECT_EQ(score_heuristic("The reply, as an AI would say").formulaic_preamble, 0);
}

TEST(Heuristic, DegenerationByRepeatRatio) {
  // 5 sentences, 2 distinct: r = 0.6 > 0.5
  EXPECT_EQ(score_heuristic("The cat sat. The cat sat. The cat sat. The cat sat. A dog ran.")
                .degeneration,
            5);
  EXPECT_EQ(score_heuristic("Yes. Yes. Yes. No. Maybe.").degeneration, 3);   // r = 0.4
  EXPECT_EQ(score_heuristic("Yes. Yes. No. Maybe. Sure.").degeneration, 1);  // r = 0.2
  EXPECT_EQ(score_heuristic("Yes. No. Maybe. Sure. Never.").degeneration, 0);
  EXPECT_EQ(score_heuristic("yes. YES. No. Maybe. Sure.").degeneration, 1);  // case folded
}

TEST(Heuristic, TruncationMarkers) {
  EXPECT_EQ(score_heuristic("This is a long enough answer<|endoftext|>").degeneration, 5);
  EXPECT_EQ(score_heuristic("Well, I was going to say...").degeneration, 5);
  EXPECT_EQ(score_heuristic("Well, I was going to say\u2026").degeneration, 5);
}

TEST(Heuristic, EmptyOrBroken) {
  EXPECT_EQ(score_heuristic("short").empty_broken, 1);
  EXPECT_EQ(score_heuristic("Error: the request timed out").empty_broken, 1);
  EXPECT_EQ(score_heuristic("<p>Hello there, my friend</p>").empty_broken, 1);
  EXPECT_EQ(score_heuristic("Some text then <pad><pad><pad>").empty_broken, 1);
  EXPECT_EQ(score_heuristic("Some text then <unused12> tokens").empty_broken, 1);
  EXPECT_EQ(score_heuristic("x < y and y > z holds here").empty_broken, 0);
  // An empty-broken reply loses 20/32 of its positive score.
  const auto s = score_heuristic("I feel joy");  // 10 chars: not under 10
  EXPECT_EQ(s.empty_broken, 0);
  const auto t = score_heuristic("I feel");
  EXPECT_EQ(t.empty_broken, 1);
  // positive = (2*(1/5) + 1.5*(1/4))/8.5 ; negative = 20/32
  EXPECT_EQ(t.emotional_register, 1);
  EXPECT_EQ(t.first_person, 1);
  EXPECT_NEAR(t.lek_score, (0.4 + 0.375) / 8.5 * (1.0 - 20.0 / 32.0), 1e-12);
}

TEST(Heuristic, CompliancePhrases) {
  EXPECT_EQ(score_heuristic("I can't do that, it is not permitted, and I'm not able to help.")
                .compliance_markers,
            3);
  EXPECT_EQ(score_heuristic("I apologise; I can\u2019t.").compliance_markers, 2);
}

TEST(Heuristic, EmotionCappedAtTen) {
  std::string text;
  for (int i = 0; i < 15; ++i) text += "joy ";
  EXPECT_EQ(score_heuristic(text).emotional_register, 10);
}

TEST(Heuristic, LekScoreClampedAndFormula) {
  HeuristicScores s;
  s.engagement_depth = 5;
  s.creative_form = 4;
  s.emotional_register = 5;
  s.first_person = 4;
  EXPECT_DOUBLE_EQ(lek_score(s), 1.0);
  s.compliance_markers = 5;
  s.formulaic_preamble = 1;
  s.degeneration = 5;
  s.empty_broken = 1;
  EXPECT_DOUBLE_EQ(lek_score(s), 0.0);
}

}  // namespace
}  // namespace inference::ml
