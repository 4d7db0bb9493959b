// Special-token matching: llama.cpp's longest-token-first rule and HF's leftmost-longest rule.
#include <gtest/gtest.h>

#include "tokenizer/special_tokens.hpp"

namespace inference::tokenizer {
namespace {

std::string show(std::string_view text, const std::vector<Fragment>& fs) {
  std::string out;
  for (const auto& f : fs) {
    out += f.is_text() ? "[" + std::string(text.substr(f.offset, f.length)) + "]"
                       : "<" + std::to_string(f.token) + ">";
  }
  return out;
}

TEST(SpecialTokens, LongestTokenFirstTakesPrecedenceOverPosition) {
  // "XY" (id 1) occurs first, but the longer "YZW" (id 2) is placed first, as llama.cpp does.
  SpecialTokenMatcher m({{1, "XY"}, {2, "YZW"}});
  const std::string text = "XYZW";
  EXPECT_EQ(show(text, m.partition_longest_first(text, true)), "[X]<2>");
  EXPECT_EQ(show(text, m.partition_leftmost_longest(text, true)), "<1>[ZW]");
}

TEST(SpecialTokens, ControlTokensNeedParseSpecialUserDefinedDoNot) {
  SpecialTokenMatcher m({{5, "<s>", false, false, false}, {6, "<u>", false, false, true}});
  const std::string text = "a<s>b<u>c";
  EXPECT_EQ(show(text, m.partition_longest_first(text, false)), "[a<s>b]<6>[c]");
  EXPECT_EQ(show(text, m.partition_longest_first(text, true)), "[a]<5>[b]<6>[c]");
}

TEST(SpecialTokens, RstripEatsWhitespace) {
  SpecialTokenMatcher m({{7, "<|end|>", false, true, false}});
  const std::string text = "x<|end|> \n y";
  EXPECT_EQ(show(text, m.partition_longest_first(text, true)), "[x]<7>[y]");
  EXPECT_EQ(show(text, m.partition_leftmost_longest(text, true)), "[x]<7>[y]");
}

TEST(SpecialTokens, OverlappingOccurrencesOfOneToken) {
  SpecialTokenMatcher m({{3, "aa"}});
  const std::string text = "aaa";
  EXPECT_EQ(show(text, m.partition_longest_first(text, true)), "<3>[a]");
  EXPECT_EQ(show(text, m.partition_leftmost_longest(text, true)), "<3>[a]");
}

TEST(SpecialTokens, EmptyTextHasNoFragments) {
  SpecialTokenMatcher m({{3, "aa"}});
  EXPECT_TRUE(m.partition_longest_first("", true).empty());
  EXPECT_TRUE(m.partition_leftmost_longest("", true).empty());
}

}  // namespace
}  // namespace inference::tokenizer
