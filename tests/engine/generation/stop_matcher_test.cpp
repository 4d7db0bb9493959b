#include "engine/generation/stop_matcher.hpp"

#include <gtest/gtest.h>

namespace inference::generation {
namespace {

TEST(StopMatcher, WithoutStopsPassesEverythingThrough) {
  StopMatcher m;
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.flush(), "");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, StopSpanningTokensIsNeverEmitted) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("hello S"), "hello ");  // "S" could start STOP: held back
  EXPECT_EQ(m.push("T"), "");
  EXPECT_EQ(m.push("OP and more"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "STOP");
  EXPECT_EQ(m.push("after"), "");
}

TEST(StopMatcher, TextBeforeTheStopInTheSamePieceIsEmitted) {
  StopMatcher m({"\n\n"});
  EXPECT_EQ(m.push("line\n"), "line");
  EXPECT_EQ(m.push("x\n\ny"), "\nx");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, AFalseStartIsReleased) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("ST"), "");
  EXPECT_EQ(m.push("ART"), "START");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push("S"), "");
  EXPECT_EQ(m.flush(), "S");  // end of generation: the held text is the output's tail
}

TEST(StopMatcher, TheEarliestOfSeveralStopsWins) {
  StopMatcher m({"world", "lo w"});
  EXPECT_EQ(m.push("hello world"), "hel");
  EXPECT_EQ(m.matched(), "lo w");
}

TEST(StopMatcher, HoldsTheLongestPossibleStart) {
  StopMatcher m({"abcd", "cx"});
  EXPECT_EQ(m.push("zabc"), "z");  // "abc" may become "abcd"
  EXPECT_EQ(m.push("x"), "ab");    // "cx" matched: the held "ab" before it comes out
  EXPECT_TRUE(m.stopped());
}

}  // namespace
}  // namespace inference::generation
