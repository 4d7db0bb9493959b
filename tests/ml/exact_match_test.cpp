#include <gtest/gtest.h>

#include "ml/exact_match.hpp"

namespace inference::ml {
namespace {

TEST(ExactMatch, HashMarkerWithThousands) {
  const auto r = exact_match("Adding up we get 1,000 + 234.\n#### 1,234", "1234");
  EXPECT_TRUE(r.correct);
  ASSERT_TRUE(r.extracted);
  EXPECT_DOUBLE_EQ(*r.extracted, 1234.0);
}

TEST(ExactMatch, LastHashMarkerWinsOverLaterNumbers) {
  EXPECT_DOUBLE_EQ(*extract_final_number("#### 7\n#### 42\nbut maybe 43"), 42.0);
}

TEST(ExactMatch, NegativeNumbers) {
  EXPECT_TRUE(exact_match("The temperature is -5.", "-5").correct);
  EXPECT_FALSE(exact_match("The temperature is 5.", "-5").correct);
  EXPECT_DOUBLE_EQ(*extract_final_number("so 5-3 = 2"), 2.0);  // a hyphen is not a sign
}

TEST(ExactMatch, Decimals) {
  EXPECT_TRUE(exact_match("It costs 3.50 dollars", "3.5").correct);
  EXPECT_TRUE(exact_match("about 10.005", "10").correct);  // within 0.01
  EXPECT_FALSE(exact_match("about 10.02", "10").correct);
  EXPECT_DOUBLE_EQ(*extract_final_number("ratio .75"), 0.75);
}

TEST(ExactMatch, SeveralNumbersTakesTheLast) {
  EXPECT_TRUE(exact_match("First 12, then 15, finally 18", "18").correct);
  EXPECT_FALSE(exact_match("First 12, then 15, finally 18", "12").correct);
  EXPECT_DOUBLE_EQ(*extract_final_number("1,234,567 people and 8 cats, 9"), 9.0);
  EXPECT_DOUBLE_EQ(*extract_final_number("total: 1,234,567."), 1234567.0);
}

TEST(ExactMatch, NoNumber) {
  const auto r = exact_match("I do not know", "5");
  EXPECT_FALSE(r.correct);
  EXPECT_FALSE(r.extracted);
}

TEST(ExactMatch, EmptyAndErrorRepliesAreWrong) {
  EXPECT_FALSE(exact_match("", "").correct);
  EXPECT_FALSE(exact_match("   ", "5").correct);
  EXPECT_FALSE(exact_match("Error: 5", "5").correct);
  EXPECT_FALSE(exact_match("ERROR 5", "5").correct);
}

TEST(ExactMatch, TrimmedStringEquality) {
  EXPECT_TRUE(exact_match(" Paris \n", "Paris").correct);
  EXPECT_FALSE(exact_match("paris", "Paris").correct);
}

TEST(ExactMatch, ExpectedInGsm8kForm) {
  EXPECT_TRUE(exact_match("The answer is 72", "Natalia sold 48/2 = 24 clips.\n#### 72").correct);
}

}  // namespace
}  // namespace inference::ml
