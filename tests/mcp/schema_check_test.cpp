// The JSON Schema subset that checks tool arguments.
#include <gtest/gtest.h>

#include "mcp/schema_check.hpp"

namespace inference::mcp {
namespace {

using json = nlohmann::json;

const json kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "n": {"type": "integer", "minimum": 1, "maximum": 10},
    "t": {"type": "number"},
    "s": {"type": "string", "minLength": 1, "maxLength": 3},
    "e": {"type": "string", "enum": ["a", "b"]},
    "l": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    "u": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "o": {"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]}
  },
  "required": ["n"],
  "additionalProperties": false
})");

std::string check(const std::string& value) {
  return check_schema(kSchema, json::parse(value));
}

TEST(SchemaCheck, AcceptsValidValues) {
  EXPECT_EQ(check(R"({"n": 3})"), "");
  EXPECT_EQ(check(R"({"n": 3.0, "t": 1, "s": "ab", "e": "b", "l": ["x"], "u": "a,b"})"), "");
  EXPECT_EQ(check(R"({"n": 10, "u": ["a"], "o": {"x": true, "y": 1}})"), "");
}

TEST(SchemaCheck, NamesTheOffendingField) {
  EXPECT_EQ(check(R"({})"), "arguments: missing required field \"n\"");
  EXPECT_EQ(check(R"({"n": "3"})"), "arguments.n: expected integer, got string");
  EXPECT_EQ(check(R"({"n": 2.5})"), "arguments.n: expected integer, got number");
  EXPECT_EQ(check(R"({"n": 0})"), "arguments.n: must be at least 1");
  EXPECT_EQ(check(R"({"n": 11})"), "arguments.n: must be at most 10");
  EXPECT_EQ(check(R"({"n": 1, "s": ""})"), "arguments.s: must be at least 1 characters");
  EXPECT_EQ(check(R"({"n": 1, "s": "abcd"})"), "arguments.s: must be at most 3 characters");
  EXPECT_EQ(check(R"({"n": 1, "e": "c"})"), "arguments.e: must be one of [\"a\",\"b\"]");
  EXPECT_EQ(check(R"({"n": 1, "l": ["a", 2]})"), "arguments.l[1]: expected string, got integer");
  EXPECT_EQ(check(R"({"n": 1, "l": ["a", "b", "c"]})"), "arguments.l: at most 2 items allowed");
  EXPECT_EQ(check(R"({"n": 1, "u": 5})"), "arguments.u: expected string, got integer");
  EXPECT_EQ(check(R"({"n": 1, "o": {}})"), "arguments.o: missing required field \"x\"");
  EXPECT_EQ(check(R"({"n": 1, "zzz": 1})"), "arguments: unknown field \"zzz\"");
  EXPECT_EQ(check(R"([1])"), "arguments: expected object, got array");
}

}  // namespace
}  // namespace inference::mcp
