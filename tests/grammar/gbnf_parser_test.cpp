// The GBNF parser and the byte-level matcher: syntax, escapes, classes, repetition, errors with
// line/column, left recursion rejected.
#include <gtest/gtest.h>

#include <memory>

#include "grammar/gbnf_parser.hpp"
#include "grammar/matcher.hpp"
#include "inference/error.hpp"

namespace inference::grammar {
namespace {

Matcher matcher_for(const std::string& gbnf) {
  return Matcher(std::make_shared<const Grammar>(parse_gbnf(gbnf)));
}

std::string error_of(const std::string& gbnf) {
  try {
    parse_gbnf(gbnf);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    return e.what();
  }
  return "";
}

TEST(GbnfParser, LiteralsAlternationAndGroups) {
  auto m = matcher_for("root ::= \"a\" (\"b\" | \"cd\")* \"e\"\n");
  EXPECT_TRUE(m.matches("ae"));
  EXPECT_TRUE(m.matches("abcdbe"));
  EXPECT_FALSE(m.matches("abc"));
  EXPECT_FALSE(m.matches("a"));
  EXPECT_FALSE(m.matches("aee"));
}

TEST(GbnfParser, RepetitionCounts) {
  auto m = matcher_for("root ::= [0-9]{2,4} \"x\"? [a]{3} [b]{1,} [c]+\n");
  EXPECT_TRUE(m.matches("12aaabc"));
  EXPECT_TRUE(m.matches("1234xaaabbbcc"));
  EXPECT_FALSE(m.matches("1aaabc"));
  EXPECT_FALSE(m.matches("12345aaabc"));
  EXPECT_FALSE(m.matches("12aabc"));
  EXPECT_FALSE(m.matches("12aaac"));
}

TEST(GbnfParser, ClassesNegationRangesAndUnicode) {
  auto m = matcher_for("root ::= [^\"\\\\a-c]+ [\\u00e9-\\u00ea] [\\U0001F600] .\n");
  EXPECT_TRUE(m.matches("xyz\u00e9\U0001F600\u4e2d"));
  EXPECT_TRUE(m.matches("\u00ff\u00ea\U0001F600!"));
  EXPECT_FALSE(m.matches("b\u00e9\U0001F600!"));
  EXPECT_FALSE(m.matches("x\"\u00e9\U0001F600!"));
  EXPECT_FALSE(m.matches("x\u00eb\U0001F600!"));
  // Raw UTF-8 in classes and literals, and \x / \t escapes.
  auto u = matcher_for("root ::= [é-ë] \"\\x41\\t中\"\n");
  EXPECT_TRUE(u.matches("\u00eaA\t\u4e2d"));
  EXPECT_FALSE(u.matches("eA\t\u4e2d"));
}

TEST(GbnfParser, MultiByteCharacterCanBeFedBytewise) {
  auto m = matcher_for("root ::= \"\u4e2d\" [\u0400-\u04ff]\n");
  Matcher::State s = m.start();
  const std::string text = "\u4e2d\u0416";
  for (char c : text) {
    s = m.advance(s, static_cast<uint8_t>(c));
    ASSERT_NE(s, Matcher::kDead);
  }
  EXPECT_TRUE(m.accepts(s));
  // A byte that cannot start or continue the character is rejected mid-sequence.
  EXPECT_EQ(m.advance(m.advance(m.start(), "\xe4"), static_cast<uint8_t>('a')), Matcher::kDead);
}

TEST(GbnfParser, CommentsNewlinesAndMultipleRules) {
  auto m = matcher_for(R"(# a comment
root ::= item ("," ws item)*   # trailing comment
item ::= (
    "x" |
    "yy"
  )
ws ::= [ \t]*
)");
  EXPECT_TRUE(m.matches("x, yy,\tx"));
  EXPECT_FALSE(m.matches("x,"));
}

TEST(GbnfParser, EmptyAlternativeAndNullableRules) {
  auto m = matcher_for("root ::= a b \"!\"\na ::= | \"a\"\nb ::= \"b\" | \n");
  EXPECT_TRUE(m.matches("!"));
  EXPECT_TRUE(m.matches("ab!"));
  EXPECT_TRUE(m.matches("b!"));
  EXPECT_FALSE(m.matches("ba!"));
}

TEST(GbnfParser, RecursionIsMatched) {
  auto m = matcher_for("root ::= \"(\" root \")\" | \"x\"\n");
  EXPECT_TRUE(m.matches("x"));
  EXPECT_TRUE(m.matches("(((x)))"));
  EXPECT_FALSE(m.matches("((x)"));
}

TEST(GbnfParser, ErrorsNameLineAndColumn) {
  EXPECT_NE(error_of("root ::= \"a\"\nfoo ::= [a-\n").find("line 2"), std::string::npos);
  EXPECT_NE(error_of("root ::= undefined-rule\n").find("'undefined-rule'"), std::string::npos);
  EXPECT_NE(error_of("item ::= \"a\"\n").find("root"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\n").find("unterminated"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"\\q\"\n").find("escape"), std::string::npos);
  EXPECT_NE(error_of("root ::= (\"a\"\n").find("')'"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"{3,1}\n").find("repetition"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"{99999999}\n").find("too large"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"\nroot ::= \"b\"\n").find("twice"), std::string::npos);
  EXPECT_NE(error_of("root ::= * \"a\"\n").find("must follow"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\" x ::= \"b\"\n").find("newline"), std::string::npos);
  const std::string col = error_of("root ::= \"a\" @\n");
  EXPECT_NE(col.find("line 1, column 14"), std::string::npos) << col;
}

TEST(GbnfParser, LeftRecursionIsRejected) {
  EXPECT_NE(error_of("root ::= root \"a\" | \"b\"\n").find("left-recursive"), std::string::npos);
  EXPECT_NE(error_of("root ::= x \"a\"\nx ::= y? root\ny ::= \"c\"\n").find("left-recursive"),
            std::string::npos);
}

TEST(GbnfParser, NestedRepetitionStaysSmall) {
  // 10^8 characters in total: the repeated group is referenced, never copied, so the grammar
  // has about 2 x 10^4 elements and builds at once.
  const Grammar g = parse_gbnf("root ::= ([a-z]{10000}){10000}\n");
  EXPECT_LT(g.elems.size(), 100000u);
  Matcher m(std::make_shared<const Grammar>(g));
  EXPECT_NE(m.advance(m.start(), std::string(20000, 'q')), Matcher::kDead);
  EXPECT_FALSE(m.matches(std::string(20000, 'q')));
}

TEST(Matcher, OverlappingRepetitionsStayFast) {
  // Up to ten items of up to 60 characters: a line splits into items in many ways, so each
  // byte keeps ~600 stacks live. Found by fuzzing: de-duplicating them by linear search took
  // 4 ms per byte (over 10 s under ASan for one 150-byte input).
  auto m = matcher_for("root ::= item{1,10}\nitem ::= [^\\n\\r]{1,60}\n");
  EXPECT_TRUE(m.matches(std::string(600, 'e')));
  EXPECT_FALSE(m.matches(std::string(601, 'e')));
  EXPECT_FALSE(m.matches(std::string(150, 'e') + "\n"));
  EXPECT_FALSE(m.matches(""));
}

TEST(Matcher, TooAmbiguousGrammarIsAnError) {
  // Empty items make the number of completed items unbounded by the input: 300 x 300 stacks.
  auto m = matcher_for("root ::= ([^\\n]{0,300}){0,300}\n");
  try {
    m.advance(m.start(), std::string(300, 'a'));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("too ambiguous"), std::string::npos) << e.what();
  }
  // The matcher stays usable for inputs that stay within the bound.
  EXPECT_NE(m.advance(m.start(), "ab"), Matcher::kDead);
}

TEST(Matcher, CompactKeepsTheCurrentPosition) {
  auto m = matcher_for("root ::= \"[\" root* \"]\"\n");
  Matcher::State s = m.advance(m.start(), "[[[]");
  ASSERT_NE(s, Matcher::kDead);
  s = m.compact(s);
  EXPECT_FALSE(m.accepts(s));
  EXPECT_TRUE(m.accepts(m.advance(s, "]]")));
  EXPECT_EQ(m.advance(s, "]]]"), Matcher::kDead);
}

}  // namespace
}  // namespace inference::grammar
