// llama-server's LoRA scale lists without a model: a request's `lora` field on every generating
// endpoint's parser and the POST /lora-adapters body — unlisted adapters off, the server's
// defaults without the field, and a 400 naming the field for each kind of bad list.
#include <gtest/gtest.h>

#include "server/api_error.hpp"
#include "server/request_parsing.hpp"

namespace inference::server {
namespace {

ParseLimits two_adapters() {
  ParseLimits l;
  l.vocab_size = 1000;
  l.adapter_scales = {1.0f, 0.25f};  // the server's current defaults
  return l;
}

std::string rejected_param(const json& list, size_t n_adapters) {
  try {
    parse_lora_scales(list, "lora", n_adapters);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find(e.param()), std::string::npos) << e.what();
    return e.param();
  }
  ADD_FAILURE() << "accepted " << list.dump();
  return "";
}

TEST(LoraFields, ListedAdaptersGetTheirScalesAndTheOthersAreOff) {
  const auto scales = parse_lora_scales(json::parse(R"([{"id": 1, "scale": -0.5}])"), "lora", 3);
  EXPECT_EQ(scales, (std::vector<float>{0.0f, -0.5f, 0.0f}));
  EXPECT_EQ(parse_lora_scales(json::array(), "lora", 2), (std::vector<float>{0.0f, 0.0f}));
}

TEST(LoraFields, EveryGeneratingEndpointTakesTheField) {
  const ParseLimits l = two_adapters();
  const json lora = json::parse(R"([{"id": 0, "scale": 2}])");
  const std::vector<float> want = {2.0f, 0.0f};
  json chat = {
      {"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"lora", lora}};
  EXPECT_EQ(parse_chat_request(chat, l).sampling.config.adapter_scales, want);
  json completion = {{"model", "m"}, {"prompt", "hi"}, {"lora", lora}};
  EXPECT_EQ(parse_completion_request(completion, l).sampling.config.adapter_scales, want);
  EXPECT_EQ(parse_llama_completion_request(completion, l).sampling.config.adapter_scales, want);
  json messages = chat;
  messages["max_tokens"] = 4;
  EXPECT_EQ(parse_messages_request(messages, l).sampling.config.adapter_scales, want);
  // Without the field: the server's defaults.
  chat.erase("lora");
  EXPECT_EQ(parse_chat_request(chat, l).sampling.config.adapter_scales, l.adapter_scales);
  // A server without adapters: nothing is set, and the engine keeps its own.
  EXPECT_TRUE(parse_chat_request(chat, ParseLimits{}).sampling.config.adapter_scales.empty());
}

TEST(LoraFields, BadListsAreRejectedNamingTheField) {
  EXPECT_EQ(rejected_param(json::parse(R"({"id": 0, "scale": 1})"), 2), "lora");
  EXPECT_EQ(rejected_param(json::parse(R"([1])"), 2), "lora[0]");
  EXPECT_EQ(rejected_param(json::parse(R"([{"scale": 1}])"), 2), "lora[0].id");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": 2, "scale": 1}])"), 2), "lora[0].id");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": -1, "scale": 1}])"), 2), "lora[0].id");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": 0.5, "scale": 1}])"), 2), "lora[0].id");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": 0}])"), 2), "lora[0].scale");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": 0, "scale": "1"}])"), 2), "lora[0].scale");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": 0, "scale": 1e6}])"), 2), "lora[0].scale");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": 0, "scale": 1}, {"id": 0, "scale": 2}])"), 2),
            "lora[1].id");
  EXPECT_EQ(rejected_param(json::parse(R"([{"id": 0, "scale": 1}])"), 0), "lora[0].id");
}

TEST(LoraFields, ThePostBodyIsTheListItself) {
  EXPECT_EQ(parse_lora_scales(json::parse(R"([{"id": 0, "scale": 0.5}])"), "", 2),
            (std::vector<float>{0.5f, 0.0f}));
  try {
    parse_lora_scales(json::parse(R"({"lora": []})"), "", 2);
    FAIL() << "expected a 400";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("must be an array"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace inference::server
