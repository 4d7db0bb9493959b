// The built-in formats must render every tool-free reference conversation exactly like the
// real template of their family (gemma3 ~ Gemma 3 IT, llama3 ~ Llama 3.1 Instruct, mistral ~
// Mistral 7B Instruct v0.3, chatml ~ Qwen 2.5 Instruct), including failing where it fails.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chat/chat_template.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::chat {
namespace {

using Json = nlohmann::ordered_json;

void check_against_reference(const std::string& builtin, const std::string& reference) {
  auto dir = test::testdata_dir() / "templates";
  Json templates = Json::parse(test::read_file(dir / "templates.json"));
  Json cases = Json::parse(test::read_file(dir / "cases.json"));
  Json expected = Json::parse(test::read_file(dir / "expected.json"));
  auto tmpl = ChatTemplate::builtin(builtin);
  int compared = 0;
  for (const auto& result : expected["results"]) {
    if (result["template"] != reference) continue;
    const Json* c = nullptr;
    for (const auto& candidate : cases["cases"]) {
      if (candidate["name"] == result["case"]) c = &candidate;
    }
    ASSERT_NE(c, nullptr);
    if (c->contains("tools")) continue;  // built-ins do not format tool calls
    Json variables = Json::object();
    variables["messages"] = (*c)["messages"];
    variables["tools"] = nullptr;
    variables["add_generation_prompt"] = (*c)["add_generation_prompt"];
    for (const auto& [key, value] : templates["templates"][reference]["special_tokens"].items()) {
      variables[key] = value;
    }
    if (c->contains("kwargs")) {
      for (const auto& [key, value] : (*c)["kwargs"].items()) variables[key] = value;
    }
    SCOPED_TRACE(result["case"].get<std::string>());
    if (result["ok"].get<bool>()) {
      EXPECT_EQ(tmpl.render_variables(variables), result["text"].get<std::string>());
    } else {
      EXPECT_THROW(tmpl.render_variables(variables), Error);
    }
    ++compared;
  }
  EXPECT_GE(compared, 15);
}

TEST(BuiltinTemplates, Gemma3MatchesGemma3It) {
  INFERENCE_REQUIRE_TESTDATA();
  check_against_reference("gemma3", "gemma3-it");
}

TEST(BuiltinTemplates, Llama3MatchesLlama31Instruct) {
  INFERENCE_REQUIRE_TESTDATA();
  check_against_reference("llama3", "llama-3.1-8b-instruct");
}

TEST(BuiltinTemplates, MistralMatchesMistral7bV03) {
  INFERENCE_REQUIRE_TESTDATA();
  check_against_reference("mistral", "mistral-7b-instruct-v0.3");
}

TEST(BuiltinTemplates, ChatmlMatchesQwen25) {
  INFERENCE_REQUIRE_TESTDATA();
  check_against_reference("chatml", "qwen2.5-7b-instruct");
}

TEST(BuiltinTemplates, RenderWithOptions) {
  auto tmpl = ChatTemplate::builtin("chatml");
  nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(tmpl.render(messages),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
            "assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  RenderOptions options;
  options.add_generation_prompt = false;
  options.bos_token = "<s>";
  options.eos_token = "</s>";
  EXPECT_EQ(ChatTemplate::builtin("mistral").render(messages, options), "<s>[INST] Hi[/INST]");
  EXPECT_FALSE(tmpl.source().empty());
}

TEST(BuiltinTemplates, NamesAndArchitectures) {
  EXPECT_EQ(ChatTemplate::builtin_name_for_architecture("gemma3"), "gemma3");
  EXPECT_EQ(ChatTemplate::builtin_name_for_architecture("llama"), "llama3");
  EXPECT_EQ(ChatTemplate::builtin_name_for_architecture("qwen2"), "chatml");
  EXPECT_EQ(ChatTemplate::builtin_name_for_architecture("qwen3"), "chatml");
  EXPECT_EQ(ChatTemplate::builtin_name_for_architecture("mistral"), "mistral");
  EXPECT_EQ(ChatTemplate::builtin_name_for_architecture("bert"), "");
  try {
    ChatTemplate::builtin("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST(ChatTemplateRender, RejectsMalformedInput) {
  auto tmpl = ChatTemplate::builtin("chatml");
  EXPECT_THROW(tmpl.render(nlohmann::json::object()), Error);
  EXPECT_THROW(tmpl.render_variables(nlohmann::ordered_json::array()), Error);
  nlohmann::json bad = nlohmann::json::array({{{"role", "user"}, {"content", "\xff"}}});
  EXPECT_THROW(tmpl.render(bad), Error);
}

}  // namespace
}  // namespace inference::chat
