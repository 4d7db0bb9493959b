// JSON extraction from judge replies and the byte-preserving field splice of classify.
#include <gtest/gtest.h>

#include "ml/json_extract.hpp"
#include "ml/json_splice.hpp"

namespace inference::ml {
namespace {

TEST(JsonExtract, FencedBlockFirst) {
  const auto j = extract_json_object(
      "Here {not json} is my verdict:\n```json\n{\"a\": 1}\n```\nand {\"a\": 2}");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["a"], 1);
}

TEST(JsonExtract, FirstBalancedObjectWithBracesInStrings) {
  const auto j = extract_json_object(
      "Sure! {\"reasoning\": \"uses } and { inside \\\" quotes\", \"score\": 3} trailing }");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["score"], 3);
  EXPECT_EQ((*j)["reasoning"], "uses } and { inside \" quotes");
}

TEST(JsonExtract, SkipsUnparsableCandidates) {
  const auto j = extract_json_object("{oops} then {\"x\": true}");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["x"], true);
}

TEST(JsonExtract, NoneOrUnclosed) {
  EXPECT_FALSE(extract_json_object("no json here"));
  EXPECT_FALSE(extract_json_object("{\"a\": 1"));
  EXPECT_FALSE(extract_json_object("```json\n{\"a\":"));
  EXPECT_FALSE(extract_json_object(std::string(100000, '{')));
}

TEST(JsonSplice, InsertsWithOtherBytesKept) {
  const std::string line = R"({"b": 1.50,  "a":"x\u00e9", "n":{"k":[1,2,"}"]}})";
  EXPECT_EQ(splice_json_field(line, "domain_1b", "\"technical\""),
            R"({"b": 1.50,  "a":"x\u00e9", "n":{"k":[1,2,"}"]},"domain_1b":"technical"})");
}

TEST(JsonSplice, ReplacesExistingValueInPlace) {
  EXPECT_EQ(
      splice_json_field(R"({"domain_1b": {"old": [1]} , "z": 2e3})", "domain_1b", "\"casual\""),
      R"({"domain_1b": "casual" , "z": 2e3})");
  EXPECT_EQ(splice_json_field(R"({"x":1,"lab":null})", "lab", "\"a\""), R"({"x":1,"lab":"a"})");
}

TEST(JsonSplice, EmptyObjectAndEscapedKey) {
  EXPECT_EQ(splice_json_field("{ }", "k", "1"), "{ \"k\":1}");
  EXPECT_EQ(splice_json_field(R"({"a\"b":1})", "a\"b", "2"), R"({"a\"b":2})");
  EXPECT_THROW(splice_json_field("[1]", "k", "1"), std::invalid_argument);
}

}  // namespace
}  // namespace inference::ml
