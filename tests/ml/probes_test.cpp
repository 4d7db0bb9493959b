#include <gtest/gtest.h>

#include <set>

#include "ml/probes.hpp"

namespace inference::ml {
namespace {

const Probe& probe(const std::string& id) {
  for (const auto& p : all_probes())
    if (p.id == id) return p;
  throw std::runtime_error("no probe " + id);
}

TEST(Probes, AtLeast23WithUniqueIdsInEveryCategory) {
  EXPECT_GE(all_probes().size(), 23u);
  std::set<std::string> ids, cats, topics;
  for (const auto& p : all_probes()) {
    EXPECT_TRUE(ids.insert(p.id).second) << p.id;
    cats.insert(p.category);
    topics.insert(p.topic);
    EXPECT_TRUE(p.number.has_value() != !p.pattern.empty()) << p.id;
  }
  EXPECT_EQ(cats.size(), probe_categories().size());
  for (const char* t : {"arithmetic", "algebra", "probability", "geometry", "sequences",
                        "percentages", "deduction", "puzzles", "sets", "analogy", "causal",
                        "spatial", "temporal", "pattern", "code", "word problems"})
    EXPECT_TRUE(topics.count(t)) << t;
}

TEST(Probes, StripThink) {
  EXPECT_EQ(strip_think("<think>maybe 5</think>\nThe answer is 8."), "The answer is 8.");
  EXPECT_EQ(strip_think("reasoning here</think> 8"), "8");
  EXPECT_EQ(strip_think("<think>never closed 8"), "");
  EXPECT_EQ(strip_think("a<think>x</think>b<think>y</think>c"), "abc");
}

TEST(Probes, Checkers) {
  EXPECT_TRUE(check_probe(probe("math.arith_mul"), "347 x 28 = 9,716"));
  EXPECT_FALSE(check_probe(probe("math.arith_mul"), "<think>9716</think>I am not sure"));
  EXPECT_TRUE(
      check_probe(probe("math.algebra_linear"), "<think>3x = 24 so x = 7? no, 8</think>x = 8"));
  EXPECT_TRUE(check_probe(probe("math.probability_die"), "The probability is 1/3."));
  EXPECT_TRUE(check_probe(probe("math.probability_die"), "2/6, i.e. one third"));
  EXPECT_FALSE(check_probe(probe("math.probability_die"), "1/2"));
  EXPECT_TRUE(check_probe(probe("logic.syllogism"), "Yes, every bloop is a lazzie."));
  EXPECT_FALSE(check_probe(probe("logic.syllogism"), "No. Yes would be wrong."));
  EXPECT_TRUE(check_probe(probe("reasoning.weekday"), "It will be Saturday."));
  EXPECT_TRUE(check_probe(probe("reasoning.clock"), "16:05"));
  EXPECT_TRUE(check_probe(probe("reasoning.letters"), "I"));
  EXPECT_FALSE(check_probe(probe("reasoning.letters"), "I think it is K"));
  EXPECT_TRUE(check_probe(probe("code.python_slice"), "'cba'"));
  EXPECT_TRUE(check_probe(probe("logic.bat_ball"), "The ball costs 5 cents."));
  EXPECT_FALSE(check_probe(probe("logic.bat_ball"), "The ball costs 10 cents."));
  EXPECT_FALSE(check_probe(probe("word.train"), ""));
}

}  // namespace
}  // namespace inference::ml
