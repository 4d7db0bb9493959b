// JSON Schema → grammar: what the compiled grammar accepts and rejects, unsupported keywords
// named in the error, and a random-walk property test: tokens picked at random among those
// the mask allows (real GPT-2 vocabulary) always give JSON that validates against the schema.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/generation/token_constraint.hpp"
#include "grammar/gbnf_parser.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/matcher.hpp"
#include "grammar/schema_validator.hpp"
#include "grammar/test_schemas.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::grammar {
namespace {

using Json = nlohmann::ordered_json;

Matcher schema_matcher(const std::string& schema) {
  return Matcher(std::make_shared<const Grammar>(parse_gbnf(json_schema_to_gbnf(schema))));
}

Error error_of(const std::string& schema) {
  try {
    json_schema_to_gbnf(schema);
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorCode::ok, "");
}

TEST(JsonSchema, ObjectPropertiesInOrderRequiredAndOptional) {
  auto m = schema_matcher(
      R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]})");
  EXPECT_TRUE(m.matches(R"({"a":1,"b":"x"})"));
  EXPECT_TRUE(m.matches(R"({"b":"x"})"));
  EXPECT_TRUE(m.matches("{ \"a\": -12 ,\n  \"b\" : \"\\u00e9\\n\" }"));
  EXPECT_FALSE(m.matches(R"({"a":1})"));                // b is required
  EXPECT_FALSE(m.matches(R"({"a":1,"b":"x","c":2})"));  // no extra keys
  EXPECT_FALSE(m.matches(R"({"a":1.5,"b":"x"})"));      // integer
  EXPECT_FALSE(m.matches(R"({"a":01,"b":"x"})"));       // no leading zeros
  EXPECT_FALSE(m.matches(R"({,"b":"x"})"));
}

TEST(JsonSchema, ArraysBoundsAndPrefixItems) {
  auto m =
      schema_matcher(R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2})");
  EXPECT_FALSE(m.matches("[]"));
  EXPECT_TRUE(m.matches("[true]"));
  EXPECT_TRUE(m.matches("[true, false]"));
  EXPECT_FALSE(m.matches("[true,false,true]"));
  auto p = schema_matcher(
      R"({"prefixItems":[{"type":"integer"},{"type":"null"}],"items":{"type":"string"}})");
  EXPECT_TRUE(p.matches("[]"));
  EXPECT_TRUE(p.matches("[1,null,\"a\",\"b\"]"));
  EXPECT_FALSE(p.matches("[null]"));
}

TEST(JsonSchema, EnumConstAnyOfTypeArrays) {
  auto m = schema_matcher(
      R"({"anyOf":[{"enum":["a",1,null]},{"const":{"k":[1,2]}},{"type":["boolean","number"]}]})");
  for (const char* ok : {"\"a\"", "1", "null", "{\"k\":[1,2]}", "true", "-0.5e+3"})
    EXPECT_TRUE(m.matches(ok)) << ok;
  for (const char* bad : {"\"b\"", "{\"k\":[1]}", "[]"}) EXPECT_FALSE(m.matches(bad)) << bad;
}

// Regression: an array without minItems/maxItems/prefixItems compiled to "[ ]" only.
TEST(JsonSchema, UnboundedArrays) {
  auto m = schema_matcher(R"({"type":"array","items":{"type":"integer"}})");
  EXPECT_TRUE(m.matches("[]"));
  EXPECT_TRUE(m.matches("[1]"));
  EXPECT_TRUE(m.matches("[1, 2,3]"));
  EXPECT_FALSE(m.matches("[1,]"));
  auto any = schema_matcher(R"({"type":"array"})");
  EXPECT_TRUE(any.matches(R"([1, "a", {"b": null}])"));
}

TEST(JsonSchema, EnumAndConstNextToType) {
  auto m = schema_matcher(R"({"type":"string","enum":["a",1,"b",null]})");
  EXPECT_TRUE(m.matches("\"a\""));
  EXPECT_FALSE(m.matches("1"));  // not a string: filtered out
  EXPECT_EQ(error_of(R"({"type":"integer","enum":["a"]})").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of(R"({"type":"string","const":"x","maxLength":3})").code(),
            ErrorCode::unsupported);
}

TEST(JsonSchema, RecursiveRefs) {
  auto m = schema_matcher(
      R"({"$defs":{"t":{"type":"array","items":{"$ref":"#/$defs/t"},"maxItems":2}},"$ref":"#/$defs/t"})");
  EXPECT_TRUE(m.matches("[[],[[[]],[]]]"));
  EXPECT_FALSE(m.matches("[[],[],[]]"));
  auto root = schema_matcher(
      R"({"type":"object","properties":{"c":{"$ref":"#"}},"additionalProperties":false})");
  EXPECT_TRUE(root.matches(R"({"c":{"c":{}}})"));
}

TEST(JsonSchema, AdditionalPropertiesNeverRepeatADeclaredName) {
  auto m = schema_matcher(
      R"({"properties":{"ab":{"type":"integer"}},"additionalProperties":{"type":"boolean"}})");
  EXPECT_TRUE(m.matches(R"({"ab":1,"a":true,"abc":false,"x":true})"));
  EXPECT_FALSE(m.matches(R"({"ab":1,"ab":true})"));
  EXPECT_FALSE(m.matches(R"({"ab":1,"x":1})"));
}

TEST(JsonSchema, StringsFormatsAndPatterns) {
  auto d = schema_matcher(R"({"type":"string","format":"date"})");
  EXPECT_TRUE(d.matches("\"2024-02-28\""));
  EXPECT_FALSE(d.matches("\"2024-02-30\""));
  EXPECT_FALSE(d.matches("\"2024-13-01\""));
  auto u = schema_matcher(R"({"type":"string","format":"uuid"})");
  EXPECT_TRUE(u.matches("\"123e4567-e89b-12d3-a456-426614174000\""));
  EXPECT_FALSE(u.matches("\"123e4567e89b-12d3-a456-426614174000\""));
  auto p = schema_matcher(R"({"type":"string","pattern":"^a\"[^b]\\d+$"})");
  EXPECT_TRUE(p.matches(R"("a\"\\12")"));  // the quote and backslash come out escaped
  EXPECT_FALSE(p.matches(R"("a"x1")"));
  auto l = schema_matcher(R"({"type":"string","minLength":1,"maxLength":2})");
  EXPECT_TRUE(l.matches("\"\u00e9\\n\""));  // two characters: one multi-byte, one escape
  EXPECT_FALSE(l.matches("\"abc\""));
  EXPECT_FALSE(l.matches("\"\""));
}

TEST(JsonSchema, UnsupportedKeywordsAreNamed) {
  for (const auto& [schema, word] : std::vector<std::pair<std::string, std::string>>{
           {R"({"type":"number","minimum":1})", "'minimum'"},
           {R"({"type":"integer","multipleOf":2})", "'multipleOf'"},
           {R"({"type":"object","properties":{"x":{"type":"string","format":"email"}}})", "email"},
           {R"({"$ref":"https://example.com/s.json"})", "$ref"},
           {R"({"type":"object","patternProperties":{"a":{}}})", "'patternProperties'"},
           {R"({"type":"string","pattern":"(a)\\1"})", "backreference"},
           {R"({"type":"object","unevaluatedProperties":false})", "'unevaluatedProperties'"}}) {
    const Error e = error_of(schema);
    EXPECT_EQ(e.code(), ErrorCode::unsupported) << schema;
    EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
  }
  // The location is named too.
  const Error nested = error_of(R"({"properties":{"p":{"items":{"multipleOf":3}}}})");
  EXPECT_NE(std::string(nested.what()).find("#/properties/p/items"), std::string::npos)
      << nested.what();
}

TEST(JsonSchema, IntegerBoundsAcceptExactlyTheRange) {
  struct Range {
    const char* schema;
    int64_t lo, hi;
  };
  for (const Range& r : std::vector<Range>{
           {R"({"type":"integer","minimum":0,"maximum":150})", 0, 150},
           {R"({"type":"integer","minimum":-40,"maximum":-3})", -40, -3},
           {R"({"type":"integer","exclusiveMinimum":-1,"exclusiveMaximum":1000})", 0, 999},
           {R"({"type":"integer","minimum":17,"maximum":17})", 17, 17},
           {R"({"type":"integer","minimum":-999,"maximum":99})", -999, 99},
           {R"({"type":"integer","minimum":2.5,"maximum":20.5})", 3, 20},
           {R"({"minimum":95,"maximum":1005})", 95, 1005}}) {
    auto m = schema_matcher(r.schema);
    for (int64_t x = -1100; x <= 1100; ++x)
      EXPECT_EQ(m.matches(std::to_string(x)), x >= r.lo && x <= r.hi) << r.schema << " " << x;
    EXPECT_FALSE(m.matches("-0")) << r.schema;
    EXPECT_FALSE(m.matches("0" + std::to_string(r.hi))) << r.schema;  // no leading zeros
  }
  // One bound: the other side is open (up to 16 digits).
  auto low = schema_matcher(R"({"type":"integer","minimum":10})");
  EXPECT_TRUE(low.matches("9999999999999999"));
  EXPECT_FALSE(low.matches("9"));
  EXPECT_FALSE(low.matches("-10"));
  auto high = schema_matcher(R"({"type":"integer","maximum":-10})");
  EXPECT_TRUE(high.matches("-9999999999999999"));
  EXPECT_FALSE(high.matches("-9"));
  EXPECT_FALSE(high.matches("0"));
  // Empty ranges and non-numeric bounds are malformed schemas.
  EXPECT_EQ(error_of(R"({"type":"integer","minimum":5,"maximum":4})").code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of(R"({"type":"integer","exclusiveMinimum":true})").code(),
            ErrorCode::invalid_argument);
}

TEST(JsonSchema, MalformedSchemasAreInvalidArgument) {
  for (const char* bad : {"{", R"({"type":"strin"})", R"({"enum":[]})", R"({"type":7})",
                          R"({"$ref":"#/$defs/missing"})", R"({"minItems":3,"maxItems":1})",
                          "false", R"({"required":"a"})"}) {
    const Error e = error_of(bad);
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << bad << " -> " << e.what();
  }
}

// ---- random walk over a real vocabulary ----

const tokenizer::Tokenizer& gpt2() {
  static const auto tok =
      tokenizer::Tokenizer::load(test::testdata_dir() / "vocab/ggml-vocab-gpt-2.gguf");
  return *tok;
}

// Picks uniformly among the allowed tokens (an end token half the time once allowed) until
// the constraint ends the output or `max_steps` pass. Returns the text and whether it ended.
std::pair<std::string, bool> random_walk(generation::TokenConstraint& c,
                                         const tokenizer::Tokenizer& tok, uint32_t seed,
                                         int max_steps) {
  std::mt19937 rng(seed);
  std::vector<float> logits(static_cast<size_t>(tok.n_vocab()));
  std::string text;
  for (int step = 0; step < max_steps; ++step) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    c.mask(logits);
    std::vector<int32_t> allowed, ends;
    for (int32_t i = 0; i < tok.n_vocab(); ++i) {
      if (std::isinf(logits[static_cast<size_t>(i)])) continue;
      (tok.is_end_of_generation(i) ? ends : allowed).push_back(i);
    }
    if (!ends.empty()) {
      EXPECT_TRUE(c.complete());
      if (allowed.empty() || rng() % 2 == 0) return {text, true};
    }
    EXPECT_FALSE(allowed.empty()) << text;
    if (allowed.empty()) return {text, false};
    const int32_t id = allowed[rng() % allowed.size()];
    c.accept(id);
    text += tok.token_to_piece(id);
    if (c.exhausted()) return {text, c.complete()};
  }
  return {text, false};
}

TEST(JsonSchemaProperty, RandomWalksAlwaysValidate) {
  const auto& tok = gpt2();
  int completed = 0;
  for (const auto& schema : testing::test_schemas()) {
    const Json root = Json::parse(schema.json);
    for (uint32_t seed = 0; seed < 4; ++seed) {
      auto c = generation::make_token_constraint({OutputConstraint::Kind::json_schema, schema.json},
                                                 tok);
      auto [text, ended] = random_walk(*c, tok, seed * 7919 + 1, 200);
      SCOPED_TRACE(std::string(schema.name) + " seed " + std::to_string(seed) + ": " + text);
      if (!ended) {
        EXPECT_FALSE(schema.bounded) << "a bounded schema must complete";
        continue;
      }
      ++completed;
      Json value;
      ASSERT_NO_THROW(value = Json::parse(text));
      EXPECT_EQ(testing::validate(value, root, root), "");
    }
  }
  EXPECT_GT(completed, 60);
}

TEST(JsonSchemaProperty, AnyJsonWalksParse) {
  const auto& tok = gpt2();
  for (uint32_t seed = 0; seed < 8; ++seed) {
    auto c = generation::make_token_constraint({OutputConstraint::Kind::json, ""}, tok);
    auto [text, ended] = random_walk(*c, tok, seed, 150);
    if (!ended) continue;
    Json value;
    EXPECT_NO_THROW(value = Json::parse(text)) << text;
  }
}

}  // namespace
}  // namespace inference::grammar
