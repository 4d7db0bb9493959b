// Constrained generation through the public API on the end-to-end models (real GPT-2 BPE and
// Llama SPM vocabularies with byte-fallback tokens, random weights): whatever the weights,
// every output under a JSON Schema validates against it and every output under a GBNF grammar
// is a sentence of it — at temperature 0 and at temperature 1. Bad grammars fail the request
// with an error naming the fault.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "grammar/gbnf_parser.hpp"
#include "grammar/matcher.hpp"
#include "grammar/schema_validator.hpp"
#include "grammar/test_schemas.hpp"
#include "inference/inference.hpp"
#include "support/testdata.hpp"

namespace inference::grammar {
namespace {

using Json = nlohmann::ordered_json;

std::unique_ptr<TextModel> open(const char* file) {
  return load_model(test::testdata_dir() / "models/e2e" / file,
                    {.backend = "native", .context_length = 512, .threads = 1});
}

struct Output {
  std::string text;
  FinishReason reason;
  Status status;
};

Output generate(TextModel& model, const OutputConstraint& c, float temperature, uint64_t seed,
                int max_tokens = 300) {
  GenerateConfig config;
  config.max_tokens = max_tokens;
  config.temperature = temperature;
  config.seed = seed;
  config.constraint = c;
  TokenStream stream = model.generate(Context::background(), "Answer in JSON:", config);
  Output out;
  for (const Token& t : stream) out.text += t.text;
  out.reason = stream.finish_reason();
  out.status = stream.err();
  return out;
}

TEST(ConstrainedGeneration, JsonSchemaOutputsValidate) {
  INFERENCE_REQUIRE_TESTDATA();
  auto gpt2 = open("e2e-bpe-gpt2-Q8_0.gguf");
  auto spm = open("e2e-spm-mistral-Q4_K_M.gguf");
  int i = 0;
  for (const auto& schema : testing::test_schemas()) {
    if (!schema.bounded) continue;
    const Json root = Json::parse(schema.json);
    for (float temperature : {0.0f, 1.0f}) {
      TextModel& model = (i++ % 2) ? *spm : *gpt2;
      const Output out = generate(model, {OutputConstraint::Kind::json_schema, schema.json},
                                  temperature, 1234 + static_cast<uint64_t>(i));
      SCOPED_TRACE(std::string(schema.name) + " on " + model.info().name +
                   " at T=" + std::to_string(temperature) + ": " + out.text);
      ASSERT_TRUE(out.status.ok()) << out.status.message;
      ASSERT_NE(out.reason, FinishReason::length) << "a bounded schema must complete";
      // SPM vocabularies put a leading space on the first piece; JSON allows it.
      Json value;
      ASSERT_NO_THROW(value = Json::parse(out.text));
      EXPECT_EQ(testing::validate(value, root, root), "");
    }
  }
}

TEST(ConstrainedGeneration, GbnfOutputsParse) {
  INFERENCE_REQUIRE_TESTDATA();
  auto gpt2 = open("e2e-bpe-gpt2-Q8_0.gguf");
  for (const char* name : {"arithmetic.gbnf", "chess.gbnf", "list.gbnf"}) {
    const std::string source = test::read_file(test::source_dir() / "grammars" / name);
    for (float temperature : {0.0f, 1.0f}) {
      const Output out =
          generate(*gpt2, {OutputConstraint::Kind::gbnf, source}, temperature, 7, 80);
      SCOPED_TRACE(std::string(name) + ": " + out.text);
      ASSERT_TRUE(out.status.ok()) << out.status.message;
      Matcher m(std::make_shared<const Grammar>(parse_gbnf(source)));
      if (out.reason == FinishReason::length) {
        EXPECT_NE(m.advance(m.start(), out.text), Matcher::kDead);  // a valid prefix
      } else {
        EXPECT_TRUE(m.matches(out.text));
      }
    }
  }
}

TEST(ConstrainedGeneration, BadConstraintsFailTheRequest) {
  INFERENCE_REQUIRE_TESTDATA();
  auto gpt2 = open("e2e-bpe-gpt2-Q8_0.gguf");
  const Output bad = generate(*gpt2, {OutputConstraint::Kind::gbnf, "root ::= [a-"}, 0.0f, 1);
  EXPECT_EQ(bad.status.code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.status.message.find("line 1"), std::string::npos) << bad.status.message;
  const Output unsupported =
      generate(*gpt2, {OutputConstraint::Kind::json_schema, R"({"type":"integer","multipleOf":3})"},
               0.0f, 1);
  EXPECT_EQ(unsupported.status.code, ErrorCode::unsupported);
  EXPECT_NE(unsupported.status.message.find("multipleOf"), std::string::npos);
}

TEST(ConstrainedGeneration, TooAmbiguousGrammarFailsOnlyItsRequest) {
  // The grammar compiles, but following it needs more parse positions than the matcher keeps:
  // the error surfaces while sampling, ends that request, and the model keeps serving.
  INFERENCE_REQUIRE_TESTDATA();
  auto gpt2 = open("e2e-bpe-gpt2-Q8_0.gguf");
  const Output bad =
      generate(*gpt2, {OutputConstraint::Kind::gbnf, "root ::= ([^\\n]{0,300}){0,300}\n"}, 0.0f, 1);
  EXPECT_EQ(bad.reason, FinishReason::error);
  EXPECT_EQ(bad.status.code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.status.message.find("too ambiguous"), std::string::npos) << bad.status.message;
  const Output good = generate(*gpt2, {OutputConstraint::Kind::gbnf, "root ::= \"ok\"\n"}, 0.0f, 1);
  ASSERT_TRUE(good.status.ok()) << good.status.message;
  EXPECT_EQ(good.text, "ok");
}

TEST(ConstrainedGeneration, TooAmbiguousGrammarLeavesItsBatchNeighbourIntact) {
  // Two sequences in one batch: the failing one is sampled first in the step; the other must
  // still get its row, its token and its normal end.
  INFERENCE_REQUIRE_TESTDATA();
  auto model =
      load_model(test::testdata_dir() / "models/e2e/e2e-bpe-gpt2-Q8_0.gguf",
                 {.backend = "native", .context_length = 512, .parallel_slots = 2, .threads = 1});
  GenerateConfig bad_config;
  bad_config.max_tokens = 20;
  bad_config.temperature = 0.0f;
  bad_config.constraint = {OutputConstraint::Kind::gbnf, "root ::= ([^\\n]{0,300}){0,300}\n"};
  GenerateConfig good_config = bad_config;
  good_config.constraint = {OutputConstraint::Kind::gbnf, "root ::= [a-z]{12}\n"};
  TokenStream bad = model->generate(Context::background(), "Answer in JSON:", bad_config);
  TokenStream good = model->generate(Context::background(), "Answer in JSON:", good_config);
  std::string good_text;
  for (const Token& t : good) good_text += t.text;
  for (const Token& t : bad) (void)t;
  ASSERT_TRUE(good.err().ok()) << good.err().message;
  EXPECT_EQ(good_text.size(), 12u) << good_text;
  EXPECT_EQ(bad.finish_reason(), FinishReason::error);
  EXPECT_NE(bad.err().message.find("too ambiguous"), std::string::npos) << bad.err().message;
}

}  // namespace
}  // namespace inference::grammar
