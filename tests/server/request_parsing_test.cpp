// Request parsing, admission, metrics and auth of the server library, without a model:
// every bad-request class is a 400 that names the field.
#include <gtest/gtest.h>

#include "server/admission.hpp"
#include "server/api_error.hpp"
#include "server/auth.hpp"
#include "server/metrics.hpp"
#include "server/request_parsing.hpp"
#include "server/server.hpp"

namespace inference::server {
namespace {

ParseLimits limits() {
  ParseLimits l;
  l.vocab_size = 1000;
  return l;
}

json chat(json extra = json::object()) {
  json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  for (auto& [k, v] : extra.items()) body[k] = v;
  return body;
}

// The 400 a parse throws, with its `param`.
template <typename F>
ApiError rejection(F&& parse) {
  try {
    parse();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an ApiError";
  return ApiError(0, "");
}

TEST(RequestParsing, MalformedJsonNamesThePosition) {
  auto e = rejection([] { parse_json_body("{\"messages\": [}"); });
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  EXPECT_EQ(rejection([] { parse_json_body("[1,2]"); }).status(), 400);
  EXPECT_EQ(rejection([] { parse_json_body(""); }).status(), 400);
  // Regression (found by fuzz_server_requests): a number overflowing a double is nlohmann's
  // out_of_range, not a parse_error; it must still be a 400.
  EXPECT_EQ(rejection([] { parse_json_body(R"({"max_tokens": 1e999})"); }).status(), 400);
  // An integral float at the edge of int64 is out of range, not a wrapped seed.
  EXPECT_EQ(rejection([] {
              parse_chat_request(chat({{"seed", 9.223372036854775808e18}}), limits());
            }).param(),
            "seed");
}

TEST(RequestParsing, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep(100000, '[');
  auto e = rejection([&] { parse_json_body(deep); });
  EXPECT_NE(std::string(e.what()).find("nests"), std::string::npos) << e.what();
}

TEST(RequestParsing, ChatFieldsMapToTheConfig) {
  auto r = parse_chat_request(chat({{"temperature", 0.5},
                                    {"top_p", 0.9},
                                    {"top_k", 7},
                                    {"min_p", 0.1},
                                    {"seed", 42},
                                    {"stop", "END"},
                                    {"presence_penalty", 1.0},
                                    {"frequency_penalty", -1.0},
                                    {"repeat_penalty", 1.1},
                                    {"max_completion_tokens", 33},
                                    {"n", 3},
                                    {"stream", true},
                                    {"stream_options", {{"include_usage", true}}},
                                    {"logprobs", true},
                                    {"top_logprobs", 4},
                                    {"logit_bias", {{"5", -100}, {"7", 2.5}}}}),
                              limits());
  EXPECT_FLOAT_EQ(r.sampling.config.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.config.top_p, 0.9f);
  EXPECT_EQ(r.sampling.config.top_k, 7);
  EXPECT_FLOAT_EQ(r.sampling.config.min_p, 0.1f);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.sampling.config.stop, std::vector<std::string>{"END"});
  EXPECT_FLOAT_EQ(r.sampling.config.presence_penalty, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.config.frequency_penalty, -1.0f);
  EXPECT_FLOAT_EQ(r.sampling.config.repeat_penalty, 1.1f);
  EXPECT_EQ(r.sampling.max_tokens, 33);
  EXPECT_EQ(r.n, 3);
  EXPECT_TRUE(r.sampling.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 4);
  ASSERT_EQ(r.sampling.config.logit_bias.size(), 2u);
  EXPECT_EQ(r.sampling.config.logit_bias[0].id, 5);
  EXPECT_FLOAT_EQ(r.sampling.config.logit_bias[0].bias, -100.0f);
}

TEST(RequestParsing, OpenAiDefaultsAndNullsMeanNotGiven) {
  auto r = parse_chat_request(chat({{"temperature", nullptr}, {"max_tokens", nullptr}}), limits());
  EXPECT_FLOAT_EQ(r.sampling.config.temperature, 1.0f);  // OpenAI's documented default
  EXPECT_FALSE(r.sampling.max_tokens.has_value());
  EXPECT_FALSE(r.sampling.seed.has_value());
  EXPECT_EQ(r.n, 1);
  // top_p 0 (OpenAI: only the most likely token) becomes a mass the sampler accepts.
  auto p = parse_chat_request(chat({{"top_p", 0}}), limits());
  EXPECT_GT(p.sampling.config.top_p, 0.0f);
  EXPECT_LT(p.sampling.config.top_p, 1e-3f);
}

TEST(RequestParsing, MessagesContentPartsRolesAndToolTurns) {
  json body = chat();
  body["messages"] = {
      {{"role", "developer"}, {"content", "be brief"}},
      {{"role", "user"},
       {"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}},
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls",
        {{{"id", "c1"},
          {"type", "function"},
          {"function", {{"name", "f"}, {"arguments", "{\"x\":1}"}}}}}}},
      {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "42"}}};
  auto r = parse_chat_request(body, limits());
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "a\nb");
  ASSERT_EQ(r.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[2].tool_calls[0].name, "f");
  EXPECT_EQ(r.messages[2].tool_calls[0].arguments, "{\"x\":1}");
  EXPECT_EQ(r.messages[3].tool_call_id, "c1");
}

struct BadChat {
  const char* name;
  json extra;
  const char* param;
};

TEST(RequestParsing, EveryBadChatFieldIsNamed) {
  const std::vector<BadChat> cases = {
      {"wrong type", {{"max_tokens", "ten"}}, "max_tokens"},
      {"negative", {{"max_tokens", -5}}, "max_tokens"},
      {"absurd n", {{"n", 1000}}, "n"},
      {"zero n", {{"n", 0}}, "n"},
      {"temperature", {{"temperature", 5}}, "temperature"},
      {"top_p", {{"top_p", -0.1}}, "top_p"},
      {"penalty", {{"presence_penalty", 3}}, "presence_penalty"},
      {"stop type", {{"stop", 5}}, "stop"},
      {"stop entry", {{"stop", {"a", 1}}}, "stop[1]"},
      {"too many stops", {{"stop", json(std::vector<std::string>(17, "x"))}}, "stop"},
      {"top_logprobs without logprobs", {{"top_logprobs", 2}}, "top_logprobs"},
      {"logit_bias key", {{"logit_bias", {{"abc", 1}}}}, "logit_bias.abc"},
      {"logit_bias range", {{"logit_bias", {{"5", 500}}}}, "logit_bias.5"},
      {"logit_bias vocab", {{"logit_bias", {{"5000", 1}}}}, "logit_bias.5000"},
      {"stream type", {{"stream", "yes"}}, "stream"},
      {"stream_options without stream",
       {{"stream_options", {{"include_usage", true}}}},
       "stream_options"},
      {"tool without function", {{"tools", {{{"type", "function"}}}}}, "tools[0].function"},
      {"server tool type", {{"tools", {{{"type", "web_search"}}}}}, "tools[0].type"},
      {"tool name",
       {{"tools", {{{"type", "function"}, {"function", {{"name", "a b"}}}}}}},
       "tools[0].function.name"},
      {"tool listed twice",
       {{"tools",
         {{{"type", "function"}, {"function", {{"name", "f"}}}},
          {{"type", "function"}, {"function", {{"name", "f"}}}}}}},
       "tools[1].function.name"},
      {"tool parameters type",
       {{"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", 3}}}}}}},
       "tools[0].function.parameters"},
      {"tool_choice word", {{"tool_choice", "always"}}, "tool_choice"},
      {"required without tools", {{"tool_choice", "required"}}, "tool_choice"},
      {"named tool missing",
       {{"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}},
        {"tool_choice", {{"type", "function"}, {"function", {{"name", "g"}}}}}},
       "tool_choice.function.name"},
      {"functions", {{"functions", {{{"name", "f"}}}}}, "functions"},
      {"tool result without a call",
       {{"messages",
         {{{"role", "user"}, {"content", "x"}},
          {{"role", "tool"}, {"tool_call_id", "nope"}, {"content", "r"}}}}},
       "messages[1].tool_call_id"},
      {"tool result without id",
       {{"messages", {{{"role", "user"}, {"content", "x"}}, {{"role", "tool"}, {"content", "r"}}}}},
       "messages[1].tool_call_id"},
      {"call arguments not an object",
       {{"messages",
         {{{"role", "user"}, {"content", "x"}},
          {{"role", "assistant"},
           {"tool_calls",
            {{{"id", "c"},
              {"type", "function"},
              {"function", {{"name", "f"}, {"arguments", "[1,2]"}}}}}}}}}},
       "messages[1].tool_calls[0].function.arguments"},
      {"call without id",
       {{"messages",
         {{{"role", "user"}, {"content", "x"}},
          {{"role", "assistant"},
           {"tool_calls",
            {{{"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}}}}}}}},
       "messages[1].tool_calls[0].id"},
      {"response_format", {{"response_format", {{"type", "xml"}}}}, "response_format.type"},
      {"messages type", {{"messages", "hi"}}, "messages"},
      {"messages empty", {{"messages", json::array()}}, "messages"},
      {"unknown role",
       {{"messages", {{{"role", "wizard"}, {"content", "x"}}}}},
       "messages[0].role"},
      {"missing content", {{"messages", {{{"role", "user"}}}}}, "messages[0].content"},
      {"image part",
       {{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}},
       "messages[0].content[0].type"},
      {"content number",
       {{"messages", {{{"role", "user"}, {"content", 5}}}}},
       "messages[0].content"},
  };
  for (const auto& c : cases) {
    auto e = rejection([&] { parse_chat_request(chat(c.extra), limits()); });
    EXPECT_EQ(e.status(), 400) << c.name;
    EXPECT_EQ(e.param(), c.param) << c.name << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(c.param), std::string::npos) << c.name << ": " << e.what();
  }
}

TEST(RequestParsing, OpenAiToolsAndChoices) {
  json tools = {
      {{"type", "function"},
       {"function",
        {{"name", "get_weather"},
         {"description", "d"},
         {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}},
      {{"type", "function"}, {"function", {{"name", "get_time"}}}}};
  auto r = parse_chat_request(chat({{"tools", tools}}), limits());
  ASSERT_EQ(r.tools.tools.size(), 2u);
  EXPECT_EQ(r.tools.tools[0].name, "get_weather");
  EXPECT_EQ(r.tools.tools[0].description, "d");
  EXPECT_EQ(json::parse(r.tools.tools[0].parameters)["properties"]["city"]["type"], "string");
  EXPECT_TRUE(r.tools.tools[1].parameters.empty());
  EXPECT_EQ(r.tools.choice.mode, grammar::ToolChoice::Mode::automatic);  // default with tools
  EXPECT_TRUE(r.tools.parallel);
  EXPECT_TRUE(r.tools.calls_allowed());
  EXPECT_EQ(json::parse(r.tools.tools_json)[1]["function"]["name"], "get_time");

  auto none = parse_chat_request(chat({{"tools", tools}, {"tool_choice", "none"}}), limits());
  EXPECT_FALSE(none.tools.calls_allowed());
  EXPECT_FALSE(none.tools.tools_json.empty());  // still shown to the model
  auto required = parse_chat_request(
      chat({{"tools", tools}, {"tool_choice", "required"}, {"parallel_tool_calls", false}}),
      limits());
  EXPECT_EQ(required.tools.choice.mode, grammar::ToolChoice::Mode::required);
  EXPECT_FALSE(required.tools.parallel);
  auto named = parse_chat_request(
      chat({{"tools", tools},
            {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_time"}}}}}}),
      limits());
  EXPECT_EQ(named.tools.choice.mode, grammar::ToolChoice::Mode::named);
  EXPECT_EQ(named.tools.choice.name, "get_time");
  auto without = parse_chat_request(chat(), limits());
  EXPECT_FALSE(without.tools.calls_allowed());
  EXPECT_TRUE(without.tools.tools_json.empty());
}

TEST(RequestParsing, ToolsKeepTheClientsKeyOrder) {
  // Sorted-key JSON would show "properties" before "type" and "z" before "a" reversed.
  const std::string body =
      R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":)"
      R"({"name":"f","parameters":{"type":"object","properties":{"z":{"type":"integer"},)"
      R"("a":{"type":"string"}}}}}]})";
  auto r = parse_chat_request(parse_json_body(body), limits());
  keep_client_key_order(r.tools, body, /*anthropic=*/false);
  EXPECT_EQ(r.tools.tools[0].parameters,
            R"({"type":"object","properties":{"z":{"type":"integer"},"a":{"type":"string"}}})");
  EXPECT_NE(r.tools.tools_json.find(R"("name":"f","parameters")"), std::string::npos)
      << r.tools.tools_json;
}

TEST(RequestParsing, AnthropicToolsToolUseAndToolResult) {
  json body = {
      {"model", "m"},
      {"max_tokens", 10},
      {"tools",
       {{{"name", "get_weather"}, {"description", "d"}, {"input_schema", {{"type", "object"}}}}}},
      {"tool_choice", {{"type", "any"}, {"disable_parallel_tool_use", true}}},
      {"messages",
       {{{"role", "user"}, {"content", "weather?"}},
        {{"role", "assistant"},
         {"content",
          {{{"type", "thinking"}, {"thinking", "hmm"}, {"signature", ""}},
           {{"type", "text"}, {"text", "Checking."}},
           {{"type", "tool_use"},
            {"id", "toolu_1"},
            {"name", "get_weather"},
            {"input", {{"city", "Paris"}}}}}}},
        {{"role", "user"},
         {"content",
          {{{"type", "tool_result"},
            {"tool_use_id", "toolu_1"},
            {"content", {{{"type", "text"}, {"text", "18 C"}}}}},
           {{"type", "text"}, {"text", "thanks"}}}}}}}};
  auto r = parse_messages_request(body, limits());
  EXPECT_EQ(r.tools.choice.mode, grammar::ToolChoice::Mode::required);
  EXPECT_FALSE(r.tools.parallel);
  EXPECT_EQ(json::parse(r.tools.tools_json)[0]["function"]["parameters"]["type"], "object");
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[1].role, "assistant");
  EXPECT_EQ(r.messages[1].content, "Checking.");  // the thinking block is not replayed
  ASSERT_EQ(r.messages[1].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[1].tool_calls[0].id, "toolu_1");
  EXPECT_EQ(json::parse(r.messages[1].tool_calls[0].arguments)["city"], "Paris");
  EXPECT_EQ(r.messages[2].role, "tool");  // the result comes before the user's text
  EXPECT_EQ(r.messages[2].tool_call_id, "toolu_1");
  EXPECT_EQ(r.messages[2].name, "get_weather");
  EXPECT_EQ(r.messages[2].content, "18 C");
  EXPECT_EQ(r.messages[3].role, "user");
  EXPECT_EQ(r.messages[3].content, "thanks");

  auto bad = [&](const char* what, auto edit, const std::string& param) {
    json b = body;
    edit(b);
    EXPECT_EQ(rejection([&] { parse_messages_request(b, limits()); }).param(), param) << what;
  };
  bad(
      "unknown result id", [](json& b) { b["messages"][2]["content"][0]["tool_use_id"] = "x"; },
      "messages[2].content[0].tool_use_id");
  bad(
      "input not an object", [](json& b) { b["messages"][1]["content"][2]["input"] = "{}"; },
      "messages[1].content[2].input");
  bad(
      "tool_use from the user",
      [](json& b) { b["messages"][0]["content"] = b["messages"][1]["content"]; },
      "messages[0].content[0].type");
  bad(
      "unknown named tool",
      [](json& b) {
        b["tool_choice"] = {{"type", "tool"}, {"name", "nope"}};
      },
      "tool_choice.name");
  bad(
      "server tool", [](json& b) { b["tools"][0]["type"] = "web_search_20250305"; },
      "tools[0].type");
  bad(
      "no input_schema", [](json& b) { b["tools"][0].erase("input_schema"); },
      "tools[0].input_schema");
}

TEST(RequestParsing, CompletionPromptsTokensEchoAndLimits) {
  auto r = parse_completion_request({{"prompt", {"a", "b"}}, {"n", 2}}, limits());
  EXPECT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.sampling.max_tokens, 16);  // the legacy API's default
  auto t = parse_completion_request({{"prompt", {1, 2, 3}}, {"echo", true}}, limits());
  ASSERT_EQ(t.prompts.size(), 1u);
  EXPECT_TRUE(t.prompts[0].is_tokens);
  EXPECT_EQ(t.prompts[0].ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(t.echo);
  auto nested = parse_completion_request({{"prompt", {{1, 2}, {3}}}, {"logprobs", 2}}, limits());
  EXPECT_EQ(nested.prompts.size(), 2u);
  EXPECT_EQ(nested.logprobs, 2);

  EXPECT_EQ(rejection([] {
              parse_completion_request({{"max_tokens", 3}}, limits());
            }).param(),
            "prompt");
  EXPECT_EQ(rejection([] {
              parse_completion_request({{"prompt", {1, 5000}}}, limits());
            }).param(),
            "prompt[1]");
  EXPECT_EQ(rejection([] {
              parse_completion_request({{"prompt", {"a", 3.5}}}, limits());
            }).param(),
            "prompt[1]");
  EXPECT_EQ(rejection([] {
              parse_completion_request({{"prompt", {"a", "b"}}, {"n", 5}}, limits());
            }).param(),
            "n");
  EXPECT_EQ(rejection([] {
              parse_completion_request({{"prompt", "a"}, {"suffix", "z"}}, limits());
            }).param(),
            "suffix");
}

TEST(RequestParsing, AnthropicMessages) {
  json body = {
      {"model", "m"},
      {"max_tokens", 10},
      {"system", {{{"type", "text"}, {"text", "sys"}}}},
      {"messages", {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "hi"}}}}}}},
      {"stop_sequences", {"X"}},
      {"temperature", 0.2},
      {"top_k", 3},
      {"stream", true}};
  auto r = parse_messages_request(body, limits());
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[0].content, "sys");
  EXPECT_EQ(r.messages[1].content, "hi");
  EXPECT_EQ(r.sampling.max_tokens, 10);
  EXPECT_EQ(r.sampling.config.stop, std::vector<std::string>{"X"});
  EXPECT_EQ(r.sampling.config.top_k, 3);
  EXPECT_TRUE(r.sampling.stream);

  json missing = body;
  missing.erase("max_tokens");
  EXPECT_EQ(rejection([&] { parse_messages_request(missing, limits()); }).param(), "max_tokens");
  EXPECT_NO_THROW(parse_messages_request(missing, limits(), /*count_tokens_only=*/true));
  json system_role = body;
  system_role["messages"] = {{{"role", "system"}, {"content", "x"}}};
  EXPECT_EQ(rejection([&] { parse_messages_request(system_role, limits()); }).param(),
            "messages[0].role");
  json temp = body;
  temp["temperature"] = 1.5;  // Anthropic's range is 0..1
  EXPECT_EQ(rejection([&] { parse_messages_request(temp, limits()); }).param(), "temperature");
  json image = body;
  image["messages"][0]["content"] = {{{"type", "image"}}};
  EXPECT_EQ(rejection([&] { parse_messages_request(image, limits()); }).param(),
            "messages[0].content[0].type");
}

TEST(RequestParsing, LlamaCompletionDefaultsAndFields) {
  auto r = parse_llama_completion_request({{"prompt", "hi"}}, limits());
  EXPECT_FLOAT_EQ(r.sampling.config.temperature, 0.8f);
  EXPECT_EQ(r.sampling.config.top_k, 40);
  EXPECT_FALSE(r.sampling.max_tokens.has_value());  // n_predict -1: to the context
  auto g = parse_llama_completion_request({{"prompt", {1, 2}},
                                           {"n_predict", 5},
                                           {"seed", -1},
                                           {"n_probs", 3},
                                           {"return_tokens", true},
                                           {"grammar", "root ::= \"a\""},
                                           {"logit_bias", {{3, false}}},
                                           {"ignore_eos", true}},
                                          limits());
  EXPECT_TRUE(g.prompt.is_tokens);
  EXPECT_EQ(g.sampling.max_tokens, 5);
  EXPECT_FALSE(g.sampling.seed.has_value());
  EXPECT_EQ(g.n_probs, 3);
  EXPECT_TRUE(g.return_tokens);
  EXPECT_EQ(g.sampling.config.constraint.kind, OutputConstraint::Kind::gbnf);
  ASSERT_EQ(g.sampling.config.logit_bias.size(), 1u);
  EXPECT_FLOAT_EQ(g.sampling.config.logit_bias[0].bias, -100.0f);
  EXPECT_TRUE(g.sampling.config.ignore_eos);
  EXPECT_EQ(rejection([] {
              parse_llama_completion_request({{"prompt", "x"}, {"n_predict", -7}}, limits());
            }).param(),
            "n_predict");
}

TEST(RequestParsing, ConstraintsFromEachApi) {
  EXPECT_EQ(parse_constraint({{"response_format", {{"type", "json_object"}}}}).kind,
            OutputConstraint::Kind::json);
  auto schema =
      parse_constraint({{"response_format",
                         {{"type", "json_schema"},
                          {"json_schema", {{"name", "x"}, {"schema", {{"type", "object"}}}}}}}});
  EXPECT_EQ(schema.kind, OutputConstraint::Kind::json_schema);
  EXPECT_EQ(json::parse(schema.source), json({{"type", "object"}}));
  EXPECT_EQ(parse_constraint({{"json_schema", {{"type", "string"}}}}).kind,
            OutputConstraint::Kind::json_schema);
  EXPECT_EQ(parse_constraint({{"response_format", {{"type", "text"}}}}).kind,
            OutputConstraint::Kind::none);
  EXPECT_EQ(rejection([] {
              parse_constraint(
                  {{"grammar", "root ::= x"}, {"response_format", {{"type", "json_object"}}}});
            }).status(),
            400);
}

TEST(RequestParsing, TokenizeAndDetokenize) {
  auto t = parse_tokenize_request({{"content", "abc"}, {"with_pieces", true}});
  EXPECT_EQ(t.content, "abc");
  EXPECT_FALSE(t.add_special);
  EXPECT_TRUE(t.parse_special);
  EXPECT_TRUE(t.with_pieces);
  EXPECT_EQ(rejection([] { parse_tokenize_request({{"content", 3}}); }).param(), "content");
  EXPECT_EQ(parse_detokenize_request({{"tokens", {1, 2}}}, limits()), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(rejection([] {
              parse_detokenize_request({{"tokens", {-1}}}, limits());
            }).param(),
            "tokens[0]");
}

TEST(ApiErrors, EachApiHasItsOwnShape) {
  ApiError e(400, "bad max_tokens", "max_tokens");
  json openai = error_body(ApiStyle::openai, e);
  EXPECT_EQ(openai["error"]["message"], "bad max_tokens");
  EXPECT_EQ(openai["error"]["type"], "invalid_request_error");
  EXPECT_EQ(openai["error"]["param"], "max_tokens");
  EXPECT_TRUE(openai["error"]["code"].is_null());
  json anthropic = error_body(ApiStyle::anthropic, ApiError(429, "busy"));
  EXPECT_EQ(anthropic["type"], "error");
  EXPECT_EQ(anthropic["error"]["type"], "rate_limit_error");
  EXPECT_EQ(anthropic["error"]["message"], "busy");
  EXPECT_EQ(error_body(ApiStyle::openai,
                       ApiError(400, "x", "messages", "context_length_exceeded"))["error"]["code"],
            "context_length_exceeded");
}

TEST(Admission, GrantsInOrderAndBoundsTheQueue) {
  auto pool = std::make_shared<SlotPool>(2, 1);
  auto a = pool->enqueue(1);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->slots().size(), 1u);
  auto b = pool->enqueue(2);  // needs both: waits for a
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->slots().empty());
  EXPECT_EQ(pool->queued(), 1);
  EXPECT_EQ(pool->enqueue(1), nullptr);  // queue full (and b is ahead: first come first served)
  a->release();
  EXPECT_TRUE(b->wait(std::chrono::milliseconds(0)));
  EXPECT_EQ(b->slots().size(), 2u);
  EXPECT_EQ(pool->busy(), 2);
  b.reset();  // destroying a ticket returns its slots
  EXPECT_EQ(pool->busy(), 0);
  auto c = pool->enqueue(8);  // capped to the pool size
  ASSERT_TRUE(c);
  EXPECT_EQ(c->slots().size(), 2u);
}

TEST(Admission, AQueuedTicketThatLeavesUnblocksTheQueue) {
  auto pool = std::make_shared<SlotPool>(1, 2);
  auto a = pool->enqueue(1);
  auto b = pool->enqueue(1);
  auto c = pool->enqueue(1);
  EXPECT_EQ(pool->queued(), 2);
  b->release();  // the client went away while waiting
  EXPECT_EQ(pool->queued(), 1);
  pool->update(a->slots()[0], 10, 5, 20);
  EXPECT_EQ(pool->tokens_in_use(), 15);
  EXPECT_EQ(pool->snapshot()[0].task_id, a->task_id());
  a->release();
  EXPECT_TRUE(c->wait(std::chrono::milliseconds(0)));
}

TEST(MetricsText, PrometheusFamiliesAndHistograms) {
  Metrics m;
  m.request_done("/v1/completions", 200);
  GenerateMetrics g;
  g.prompt_tokens = 5;
  g.generated_tokens = 7;
  g.decode_tokens_per_second = 12.5;
  m.choice_done(g);
  m.first_token(0.03);
  m.inter_token(0.004);
  const std::string text = m.render({.queue_depth = 2, .slots_total = 4, .slots_busy = 1});
  EXPECT_NE(text.find("infer_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("infer_prompt_tokens_total 5"), std::string::npos);
  EXPECT_NE(text.find("infer_generated_tokens_total 7"), std::string::npos);
  EXPECT_NE(text.find("infer_decode_tokens_per_second 12.5"), std::string::npos);
  EXPECT_NE(text.find("infer_queue_depth 2"), std::string::npos);
  EXPECT_NE(text.find("infer_time_to_first_token_seconds_bucket{le=\"0.05\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("infer_time_to_first_token_seconds_bucket{le=\"0.025\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("infer_inter_token_latency_seconds_count 1"), std::string::npos);
  EXPECT_NE(text.find("# TYPE infer_inter_token_latency_seconds histogram"), std::string::npos);
}

TEST(Auth, BearerOrXApiKey) {
  EXPECT_TRUE(api_key_matches("Bearer secret", "", "secret"));
  EXPECT_TRUE(api_key_matches("", "secret", "secret"));
  EXPECT_FALSE(api_key_matches("Bearer secre", "", "secret"));
  EXPECT_FALSE(api_key_matches("Bearer secrets", "", "secret"));
  EXPECT_FALSE(api_key_matches("secret", "", "secret"));
  EXPECT_FALSE(api_key_matches("", "", "secret"));
  EXPECT_TRUE(api_key_matches("", "", ""));  // no key configured
}

TEST(Auth, LoopbackHosts) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.3.2.1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.168.1.2"));
  EXPECT_FALSE(is_loopback_host("::"));
}

}  // namespace
}  // namespace inference::server
