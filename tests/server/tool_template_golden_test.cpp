// Tools and tool history through the server's request parsing into the model's own chat
// template must render byte-exactly what Hugging Face's apply_chat_template rendered for the
// same conversation (../shared/testdata/templates: Llama 3.1/3.2, Mistral v0.3, Qwen 2.5,
// Hermes 3, DeepSeek-R1). The requests are written as the SDKs send them: OpenAI call
// arguments as a JSON *string*, Anthropic calls as tool_use/tool_result blocks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chat/chat_template.hpp"
#include "chat/message_json.hpp"
#include "server/request_parsing.hpp"
#include "support/testdata.hpp"

namespace inference::server {
namespace {

using Ordered = nlohmann::ordered_json;

std::filesystem::path templates_dir() {
  return test::testdata_dir() / "templates";
}

struct Golden {
  std::string template_name;
  Ordered kase;
  std::string expected;
};

// Every successful rendering of a case that offers tools.
std::vector<Golden> tool_goldens() {
  std::vector<Golden> out;
  Ordered cases = Ordered::parse(test::read_file(templates_dir() / "cases.json"));
  Ordered expected = Ordered::parse(test::read_file(templates_dir() / "expected.json"));
  for (const auto& result : expected["results"]) {
    if (!result["ok"].get<bool>()) continue;
    for (const auto& c : cases["cases"]) {
      if (c["name"] != result["case"] || !c.contains("tools")) continue;
      // String arguments in the history render as a string: that case shows the template's
      // behaviour, not what a client's call becomes (we pass arguments as the object).
      if (c["name"] == "tool_call_string_arguments") continue;
      out.push_back({result["template"], c, result["text"]});
    }
  }
  return out;
}

std::string render(const Golden& g, const std::vector<Message>& messages,
                   const std::string& tools_json) {
  Ordered templates = Ordered::parse(test::read_file(templates_dir() / "templates.json"));
  const Ordered& info = templates["templates"][g.template_name];
  Ordered variables;
  variables["messages"] = chat::messages_json(messages);
  variables["tools"] = Ordered::parse(tools_json);
  variables["documents"] = nullptr;
  variables["add_generation_prompt"] = g.kase["add_generation_prompt"];
  for (const auto& [key, value] : info["special_tokens"].items()) variables[key] = value;
  if (g.kase.contains("kwargs"))
    for (const auto& [key, value] : g.kase["kwargs"].items()) variables[key] = value;
  auto tmpl = chat::ChatTemplate::from_jinja(
      test::read_file(templates_dir() / info["file"].get<std::string>()));
  chat::RenderOptions options;
  options.clock = [] {
    std::tm tm{};
    tm.tm_year = 2025 - 1900;
    tm.tm_mon = 2;
    tm.tm_mday = 14;
    tm.tm_hour = 15;
    tm.tm_min = 9;
    tm.tm_sec = 26;
    std::time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    return tm;
  };
  return tmpl.render_variables(variables, options);
}

// The case as an OpenAI request body: call arguments serialised, as the SDK sends them.
Ordered openai_body(const Ordered& kase) {
  Ordered body;
  body["model"] = "m";
  body["messages"] = kase["messages"];
  for (auto& m : body["messages"])
    if (m.contains("tool_calls"))
      for (auto& call : m["tool_calls"]) {
        auto& args = call["function"]["arguments"];
        if (!args.is_string()) args = args.dump();
      }
  body["tools"] = kase["tools"];
  return body;
}

// The same conversation as an Anthropic request: system on top, calls as tool_use blocks,
// results as tool_result blocks of the next user turn, tools with input_schema.
Ordered anthropic_body(const Ordered& kase) {
  Ordered body;
  body["model"] = "m";
  body["max_tokens"] = 16;
  body["messages"] = Ordered::array();
  for (const auto& m : kase["messages"]) {
    const std::string role = m["role"];
    if (role == "system") {
      body["system"] = m["content"];
    } else if (role == "tool") {
      Ordered block = {
          {"type", "tool_result"}, {"tool_use_id", m["tool_call_id"]}, {"content", m["content"]}};
      body["messages"].push_back({{"role", "user"}, {"content", Ordered::array({block})}});
    } else if (m.contains("tool_calls")) {
      Ordered blocks = Ordered::array();
      if (!m["content"].get<std::string>().empty())
        blocks.push_back({{"type", "text"}, {"text", m["content"]}});
      for (const auto& call : m["tool_calls"])
        blocks.push_back({{"type", "tool_use"},
                          {"id", call["id"]},
                          {"name", call["function"]["name"]},
                          {"input", call["function"]["arguments"]}});
      body["messages"].push_back({{"role", "assistant"}, {"content", blocks}});
    } else {
      body["messages"].push_back({{"role", role}, {"content", m["content"]}});
    }
  }
  body["tools"] = Ordered::array();
  for (const auto& t : kase["tools"])
    body["tools"].push_back({{"name", t["function"]["name"]},
                             {"description", t["function"]["description"]},
                             {"input_schema", t["function"]["parameters"]}});
  return body;
}

TEST(ToolTemplateGolden, OpenAiRequestsRenderLikeTransformers) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto goldens = tool_goldens();
  ASSERT_GE(goldens.size(), 12u);  // 6 tool-calling templates x at least 2 cases
  for (const Golden& g : goldens) {
    SCOPED_TRACE(g.template_name + " / " + g.kase["name"].get<std::string>());
    const std::string text = openai_body(g.kase).dump();
    ChatRequest r = parse_chat_request(parse_json_body(text), {});
    keep_client_key_order(r.tools, text, /*anthropic=*/false);
    EXPECT_EQ(render(g, r.messages, r.tools.tools_json), g.expected);
  }
}

TEST(ToolTemplateGolden, AnthropicRequestsRenderLikeTransformers) {
  INFERENCE_REQUIRE_TESTDATA();
  int compared = 0;
  for (const Golden& g : tool_goldens()) {
    // Anthropic results carry no name of their own: the server takes it from the call.
    SCOPED_TRACE(g.template_name + " / " + g.kase["name"].get<std::string>());
    const std::string text = anthropic_body(g.kase).dump();
    MessagesRequest r = parse_messages_request(parse_json_body(text), {});
    keep_client_key_order(r.tools, text, /*anthropic=*/true);
    EXPECT_EQ(render(g, r.messages, r.tools.tools_json), g.expected);
    ++compared;
  }
  EXPECT_GE(compared, 12);
}

}  // namespace
}  // namespace inference::server
