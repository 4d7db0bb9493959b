// Tool-call formats per model family: the assistant turn that each family's own chat template
// renders for a call (testdata/templates expected renderings, i.e. the golden wire format) is
// accepted by our grammar for that family and parses back into the same call; streaming
// reassembles to the same result; auto/required/named choices; <think> reasoning kept apart;
// random walks under the tool grammars always yield calls whose arguments validate.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "engine/generation/token_constraint.hpp"
#include "grammar/gbnf_parser.hpp"
#include "grammar/matcher.hpp"
#include "grammar/schema_validator.hpp"
#include "grammar/tool_calls.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::grammar {
namespace {

using Json = nlohmann::ordered_json;

const char* kWeatherParams =
    R"({"type": "object", "properties": {"city": {"type": "string", "description": "City name, e.g. Paris"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]})";

std::vector<ToolSpec> tools() {
  return {
      {"get_weather", "Get the current weather for a city.", kWeatherParams},
      {"get_time", "Current time.",
       R"({"type":"object","properties":{"tz":{"type":"string","maxLength":10}},"required":["tz"],"additionalProperties":false})"}};
}

Matcher grammar_matcher(ToolCallFormat f, ToolChoice choice, bool parallel = true) {
  return Matcher(
      std::make_shared<const Grammar>(parse_gbnf(tool_call_gbnf(f, tools(), choice, parallel))));
}

std::string expected_rendering(const std::string& tmpl) {
  const Json all = Json::parse(test::read_file(test::testdata_dir() / "templates/expected.json"));
  for (const auto& r : all["results"])
    if (r["template"] == tmpl && r["case"] == "tool_call_and_result") return r["text"];
  return "";
}

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const size_t a = text.find(open);
  if (a == std::string::npos) return "";
  const size_t b = text.find(close, a + open.size());
  return text.substr(a + open.size(), b - a - open.size());
}

struct FamilyCase {
  const char* template_name;
  ToolCallFormat format;
  std::string open, close;  // what surrounds the assistant's call in the rendering
  bool keep_open;           // the open marker is part of the reply
};

TEST(ToolCalls, FamilyRenderingsParseAndMatchTheGrammar) {
  INFERENCE_REQUIRE_TESTDATA();
  const std::vector<FamilyCase> cases = {
      {"llama-3.1-8b-instruct", ToolCallFormat::llama3, "assistant<|end_header_id|>\n\n",
       "<|eot_id|>", false},
      {"llama-3.2-3b-instruct", ToolCallFormat::llama3, "assistant<|end_header_id|>\n\n",
       "<|eot_id|>", false},
      {"qwen2.5-7b-instruct", ToolCallFormat::hermes, "<|im_start|>assistant\n", "<|im_end|>",
       false},
      {"hermes-3-llama-3.1-8b-tool_use", ToolCallFormat::hermes, "<|im_start|>assistant\n",
       "<|im_end|>", false},
      {"mistral-7b-instruct-v0.3", ToolCallFormat::mistral, "[TOOL_CALLS]", "</s>", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.template_name);
    const std::string source = test::read_file(test::testdata_dir() / "templates" /
                                               (std::string(c.template_name) + ".jinja"));
    EXPECT_EQ(tool_call_format_for_template(source), c.format);
    const std::string rendering = expected_rendering(c.template_name);
    ASSERT_FALSE(rendering.empty());
    const std::string reply = (c.keep_open ? c.open : "") + between(rendering, c.open, c.close);
    SCOPED_TRACE(reply);
    for (auto mode : {ToolChoice::Mode::automatic, ToolChoice::Mode::required}) {
      Matcher m = grammar_matcher(c.format, {mode, ""});
      EXPECT_TRUE(m.matches(reply));
    }
    Matcher named = grammar_matcher(c.format, {ToolChoice::Mode::named, "get_weather"});
    EXPECT_TRUE(named.matches(reply));
    Matcher other = grammar_matcher(c.format, {ToolChoice::Mode::named, "get_time"});
    EXPECT_FALSE(other.matches(reply));
    const ParsedToolOutput out = parse_tool_output(c.format, reply);
    ASSERT_EQ(out.tool_calls.size(), 1u);
    EXPECT_EQ(out.tool_calls[0].name, "get_weather");
    EXPECT_EQ(Json::parse(out.tool_calls[0].arguments),
              Json::parse(R"({"city": "Paris", "unit": "celsius"})"));
    EXPECT_FALSE(out.tool_calls[0].id.empty());
    EXPECT_EQ(out.content, "");
  }
}

TEST(ToolCalls, AutoAllowsTextRequiredDoesNot) {
  for (auto f : {ToolCallFormat::llama3, ToolCallFormat::hermes, ToolCallFormat::mistral}) {
    Matcher automatic = grammar_matcher(f, {ToolChoice::Mode::automatic, ""});
    Matcher required = grammar_matcher(f, {ToolChoice::Mode::required, ""});
    EXPECT_TRUE(automatic.matches("The weather is fine.")) << to_string(f);
    EXPECT_FALSE(required.matches("The weather is fine.")) << to_string(f);
    const ParsedToolOutput text = parse_tool_output(f, "The weather is fine.");
    EXPECT_EQ(text.content, "The weather is fine.");
    EXPECT_TRUE(text.tool_calls.empty());
  }
  Matcher generic = grammar_matcher(ToolCallFormat::generic, {ToolChoice::Mode::automatic, ""});
  EXPECT_TRUE(generic.matches(R"({"response": "Fine."})"));
  EXPECT_EQ(parse_tool_output(ToolCallFormat::generic, R"({"response": "Fine."})").content,
            "Fine.");
  // Hermes: text, then calls; the text may not contain the tag itself.
  Matcher hermes = grammar_matcher(ToolCallFormat::hermes, {ToolChoice::Mode::automatic, ""});
  EXPECT_TRUE(
      hermes.matches("Let me check.\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": "
                     "\"UTC\"}}\n</tool_call>"));
  EXPECT_FALSE(hermes.matches("a <tool_call> b"));
  EXPECT_THROW(tool_call_gbnf(ToolCallFormat::hermes, tools(), {ToolChoice::Mode::named, "nope"}),
               Error);
  EXPECT_EQ(tool_call_gbnf(ToolCallFormat::hermes, tools(), {ToolChoice::Mode::none, ""}), "");
}

TEST(ToolCalls, ParallelCallsAndUniqueIds) {
  const std::string reply =
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Oslo\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}\n</tool_call>";
  EXPECT_TRUE(
      grammar_matcher(ToolCallFormat::hermes, {ToolChoice::Mode::required, ""}).matches(reply));
  EXPECT_FALSE(grammar_matcher(ToolCallFormat::hermes, {ToolChoice::Mode::required, ""}, false)
                   .matches(reply));
  const auto out = parse_tool_output(ToolCallFormat::hermes, reply);
  ASSERT_EQ(out.tool_calls.size(), 2u);
  EXPECT_EQ(out.tool_calls[1].name, "get_time");
  EXPECT_EQ(out.tool_calls[1].arguments, "{\"tz\": \"CET\"}");
  EXPECT_NE(out.tool_calls[0].id, out.tool_calls[1].id);
  const std::string mistral =
      "[TOOL_CALLS] [{\"name\": \"get_time\", \"arguments\": {\"tz\": \"A\"}}, {\"name\": "
      "\"get_weather\", \"arguments\": {\"city\": \"B\"}}]";
  EXPECT_TRUE(
      grammar_matcher(ToolCallFormat::mistral, {ToolChoice::Mode::required, ""}).matches(mistral));
  const auto m = parse_tool_output(ToolCallFormat::mistral, mistral);
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].id.size(), 9u);
}

TEST(ToolCalls, ReasoningIsSeparated) {
  const std::string reply =
      "<think>\nThe user wants weather; \"arguments\" are "
      "{city}.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Rome\"}}\n</tool_call>";
  EXPECT_TRUE(
      grammar_matcher(ToolCallFormat::hermes, {ToolChoice::Mode::required, ""}).matches(reply));
  const auto out = parse_tool_output(ToolCallFormat::hermes, reply);
  EXPECT_EQ(out.reasoning, "\nThe user wants weather; \"arguments\" are {city}.\n");
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].arguments, "{\"city\": \"Rome\"}");
  EXPECT_EQ(out.content, "");
  const auto text = parse_tool_output(ToolCallFormat::llama3, "<think>hm</think>Sunny.");
  EXPECT_EQ(text.reasoning, "hm");
  EXPECT_EQ(text.content, "Sunny.");
}

// Without tools offered (or tool_choice none) only the <think> block is split off: call syntax
// in the text stays text, streamed or whole.
TEST(ToolCalls, ReasoningOnlyLeavesCallSyntaxAsText) {
  const std::string reply =
      "<think>a <tool_call> b</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": "
      "{}}\n</tool_call>";
  const auto whole = parse_tool_output(ToolCallFormat::hermes, reply, /*parse_calls=*/false);
  EXPECT_EQ(whole.reasoning, "a <tool_call> b");
  EXPECT_TRUE(whole.tool_calls.empty());
  EXPECT_EQ(whole.content, "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>");
  ToolCallStreamParser parser(ToolCallFormat::hermes, /*parse_calls=*/false);
  std::string content, reasoning;
  auto take = [&](const std::vector<ToolStreamEvent>& events) {
    for (const auto& e : events) {
      ASSERT_TRUE(e.kind == ToolStreamEvent::Kind::content ||
                  e.kind == ToolStreamEvent::Kind::reasoning);
      (e.kind == ToolStreamEvent::Kind::content ? content : reasoning) += e.text;
    }
  };
  for (size_t i = 0; i < reply.size(); i += 3)
    take(parser.push(std::string_view(reply).substr(i, 3)));
  take(parser.finish());
  EXPECT_EQ(reasoning, whole.reasoning);
  EXPECT_EQ(content, whole.content);
}

// Feeding the reply in pieces of every size gives the same calls as parsing it whole.
TEST(ToolCalls, StreamingReassemblesToTheParse) {
  const std::vector<std::pair<ToolCallFormat, std::string>> replies = {
      {ToolCallFormat::hermes,
       "<think>plan</think>\nOK.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
       "{\"city\": \"S\\\"o {x}\", \"unit\": \"celsius\"}}\n</tool_call>\n<tool_call>\n{\"name\": "
       "\"get_time\", \"arguments\": {\"tz\": \"UTC\"}}\n</tool_call>"},
      {ToolCallFormat::llama3, "{\"name\": \"get_time\", \"parameters\": {\"tz\": \"[]\"}}"},
      {ToolCallFormat::llama3, "Just text, with <tool_call> inside."},
      {ToolCallFormat::mistral,
       "[TOOL_CALLS] [{\"name\": \"get_time\", \"arguments\": {\"tz\": \"a\"}, \"id\": "
       "\"abcDEF123\"}]"},
      {ToolCallFormat::generic,
       "{\"tool_calls\": [{\"name\": \"get_time\", \"arguments\": {\"tz\": \"b\"}}]}"},
      {ToolCallFormat::generic, "{\"response\": \"hi \\\"there\\\"\"}"},
  };
  for (const auto& [format, reply] : replies) {
    const ParsedToolOutput whole = parse_tool_output(format, reply);
    for (size_t step = 1; step <= 4; ++step) {
      SCOPED_TRACE(std::string(to_string(format)) + " step " + std::to_string(step) + ": " + reply);
      ToolCallStreamParser parser(format);
      std::vector<ToolStreamEvent> events;
      for (size_t i = 0; i < reply.size(); i += step) {
        auto e = parser.push(std::string_view(reply).substr(i, step));
        events.insert(events.end(), e.begin(), e.end());
      }
      auto e = parser.finish();
      events.insert(events.end(), e.begin(), e.end());
      std::string content, reasoning;
      std::vector<ToolCall> calls;
      for (const auto& ev : events) {
        switch (ev.kind) {
          case ToolStreamEvent::Kind::content:
            content += ev.text;
            break;
          case ToolStreamEvent::Kind::reasoning:
            reasoning += ev.text;
            break;
          case ToolStreamEvent::Kind::call_start:
            ASSERT_EQ(ev.index, static_cast<int>(calls.size()));  // name before arguments
            EXPECT_FALSE(ev.id.empty());
            calls.push_back({ev.id, ev.name, ""});
            break;
          case ToolStreamEvent::Kind::call_arguments:
            ASSERT_LT(ev.index, static_cast<int>(calls.size()));
            calls[static_cast<size_t>(ev.index)].arguments += ev.text;
            break;
        }
      }
      EXPECT_EQ(content, whole.content);
      EXPECT_EQ(reasoning, whole.reasoning);
      ASSERT_EQ(calls.size(), whole.tool_calls.size());
      for (size_t i = 0; i < calls.size(); ++i) {
        EXPECT_EQ(calls[i].name, whole.tool_calls[i].name);
        EXPECT_EQ(calls[i].arguments, whole.tool_calls[i].arguments);
      }
    }
  }
}

TEST(ToolCalls, BadToolListsAreErrors) {
  EXPECT_THROW(tool_call_gbnf(ToolCallFormat::hermes, {}, {}), Error);
  EXPECT_THROW(tool_call_gbnf(ToolCallFormat::hermes, {{"a", "", "{"}}, {}), Error);
  EXPECT_THROW(tool_call_gbnf(ToolCallFormat::hermes, {{"a", "", "{}"}, {"a", "", "{}"}}, {}),
               Error);
  try {
    tool_call_gbnf(
        ToolCallFormat::hermes,
        {{"f", "",
          R"({"type":"object","properties":{"n":{"type":"number","exclusiveMinimum":0}}})"}},
        {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("exclusiveMinimum"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'f'"), std::string::npos);
  }
}

// Whatever tokens are picked, a required call comes out as a call whose arguments validate.
TEST(ToolCalls, RandomWalksYieldValidCalls) {
  INFERENCE_REQUIRE_TESTDATA();
  static const auto tok =
      tokenizer::Tokenizer::load(test::testdata_dir() / "vocab/ggml-vocab-gpt-2.gguf");
  const Json weather = Json::parse(kWeatherParams);
  int completed = 0;
  for (auto f : {ToolCallFormat::llama3, ToolCallFormat::hermes, ToolCallFormat::mistral,
                 ToolCallFormat::generic}) {
    const std::string gbnf = tool_call_gbnf(f, {{"get_weather", "", kWeatherParams}},
                                            {ToolChoice::Mode::required, ""}, false);
    for (uint32_t seed = 0; seed < 2; ++seed) {
      auto c = generation::make_token_constraint({OutputConstraint::Kind::gbnf, gbnf}, *tok);
      std::mt19937 rng(seed);
      std::vector<float> logits(static_cast<size_t>(tok->n_vocab()));
      std::string text;
      bool ended = false;
      for (int step = 0; step < 200 && !ended; ++step) {
        std::fill(logits.begin(), logits.end(), 0.0f);
        c->mask(logits);
        std::vector<int32_t> allowed;
        bool end = false;
        for (int32_t i = 0; i < tok->n_vocab(); ++i) {
          if (std::isinf(logits[static_cast<size_t>(i)])) continue;
          (tok->is_end_of_generation(i) ? end : (allowed.push_back(i), end)) =
              tok->is_end_of_generation(i) || end;
        }
        if (end && (allowed.empty() || rng() % 2)) {
          ended = true;
          break;
        }
        // Prefer short tokens so that strings close before the step limit.
        int32_t id = allowed[rng() % allowed.size()];
        for (int tries = 0; tries < 8 && tok->token_to_piece(id).size() > 2; ++tries)
          id = allowed[rng() % allowed.size()];
        c->accept(id);
        text += tok->token_to_piece(id);
        ended = c->exhausted();
      }
      if (!ended) continue;  // a string still open at the step limit
      ++completed;
      SCOPED_TRACE(std::string(to_string(f)) + ": " + text);
      const auto out = parse_tool_output(f, text);
      ASSERT_EQ(out.tool_calls.size(), 1u);
      EXPECT_EQ(out.tool_calls[0].name, "get_weather");
      const Json args = Json::parse(out.tool_calls[0].arguments);
      EXPECT_EQ(testing::validate(args, weather, weather), "");
    }
  }
  EXPECT_GE(completed, 4);
}

}  // namespace
}  // namespace inference::grammar
