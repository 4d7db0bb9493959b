// LoRA adapters through the real `infer serve`: GET/POST /lora-adapters in llama-server's shapes,
// a request's `lora` list overriding the scales for that request only, requests with different
// adapters sent concurrently getting the tokens each gets alone, and bad lists answered 400 in
// each API's error shape naming the field. The adapter is ../shared/testdata/lora's reference
// one; that it changes the output is asserted, so the equalities cannot hold vacuously.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "http_test_client.hpp"
#include "serve_process.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

std::string model() {
  return (testdata_dir() / "models" / "mistral" / "mistral-F32.gguf").string();
}
std::string adapter(const char* name) {
  return (testdata_dir() / "lora" / name).string();
}

const json kPrompt = json::array({1, 416, 320, 432, 167, 129, 27, 462});

// Greedy /completion over token ids; `lora` omitted when null.
std::vector<int32_t> complete(int port, const json& lora, const std::string& path = "/completion") {
  json req = {{"prompt", kPrompt},
              {"n_predict", 12},
              {"temperature", 0},
              {"ignore_eos", true},
              {"return_tokens", true}};
  if (!lora.is_null()) req["lora"] = lora;
  const HttpReply r = post(port, path, req);
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return {};
  return r.json_body()["tokens"].get<std::vector<int32_t>>();
}

json scales(std::initializer_list<std::pair<int, double>> list) {
  json out = json::array();
  for (const auto& [id, scale] : list) out.push_back({{"id", id}, {"scale", scale}});
  return out;
}

class ServeLora : public ::testing::Test {
 protected:
  void SetUp() override {
    INFERENCE_REQUIRE_TESTDATA();
    serve_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{model(), "-t", "1", "-c", "128", "-np", "4", "--lora",
                                 adapter("adapter.gguf"), "--lora", adapter("peft") + ":0.5"});
    port_ = serve_->wait_listening();
    ASSERT_GT(port_, 0) << serve_->stderr_text();
  }
  void TearDown() override {
    if (serve_) {
      EXPECT_EQ(serve_->stop(SIGTERM), 0) << serve_->stderr_text();
    }
  }
  std::unique_ptr<ServeProcess> serve_;
  int port_ = -1;
};

TEST_F(ServeLora, ListAndSetTheAdaptersScales) {
  json list = get(port_, "/lora-adapters").json_body();
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[0]["id"], 0);
  EXPECT_EQ(list[0]["path"], adapter("adapter.gguf"));
  EXPECT_EQ(list[0]["scale"], 1.0);
  EXPECT_EQ(list[1]["id"], 1);
  EXPECT_EQ(list[1]["path"], adapter("peft"));
  EXPECT_EQ(list[1]["scale"], 0.5);

  // The load-time scales are what a request without `lora` gets.
  const auto loaded = complete(port_, nullptr);
  EXPECT_EQ(loaded, complete(port_, scales({{0, 1.0}, {1, 0.5}})));

  // POST sets the defaults; adapters it leaves out are off (llama-server's rule).
  const HttpReply set = post(port_, "/lora-adapters", scales({{1, 2.0}}));
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json_body(), json({{"success", true}}));
  list = get(port_, "/lora-adapters").json_body();
  EXPECT_EQ(list[0]["scale"], 0.0);
  EXPECT_EQ(list[1]["scale"], 2.0);
  const auto after = complete(port_, nullptr);
  EXPECT_EQ(after, complete(port_, scales({{1, 2.0}})));
  EXPECT_NE(after, loaded);

  // The same requests through the OpenAI endpoint carry `lora` too.
  const json req = {
      {"prompt", kPrompt}, {"max_tokens", 12}, {"temperature", 0}, {"lora", json::array()}};
  const HttpReply openai = post(port_, "/v1/completions", req);
  ASSERT_EQ(openai.status, 200) << openai.body;
  json base_req = {
      {"prompt", kPrompt}, {"n_predict", 12}, {"temperature", 0}, {"lora", json::array()}};
  EXPECT_EQ(openai.json_body()["choices"][0]["text"],
            post(port_, "/completion", base_req).json_body()["content"]);
}

TEST_F(ServeLora, RequestsWithDifferentAdaptersInOneBatchMatchEachAlone) {
  const std::vector<json> loras = {scales({{0, 1.0}}), scales({{1, -2.0}}), json::array(), nullptr};
  std::vector<std::vector<int32_t>> alone;
  for (const json& l : loras) alone.push_back(complete(port_, l));
  ASSERT_EQ(alone[0].size(), 12u);
  // Each adapter changes the output: the comparisons below cannot pass by ignoring `lora`.
  EXPECT_NE(alone[0], alone[2]);
  EXPECT_NE(alone[1], alone[2]);
  EXPECT_NE(alone[0], alone[1]);
  EXPECT_NE(alone[3], alone[2]);

  for (int round = 0; round < 2; ++round) {
    std::vector<std::vector<int32_t>> together(loras.size());
    std::vector<std::thread> clients;
    for (size_t i = 0; i < loras.size(); ++i)
      clients.emplace_back([&, i] { together[i] = complete(port_, loras[i]); });
    for (auto& c : clients) c.join();
    for (size_t i = 0; i < loras.size(); ++i)
      EXPECT_EQ(together[i], alone[i]) << "request " << i << " round " << round;
  }
}

TEST_F(ServeLora, BadListsAreRejectedNamingTheField) {
  auto expect_400 = [&](const std::string& path, const json& body, const std::string& param) {
    const HttpReply r = post(port_, path, body);
    EXPECT_EQ(r.status, 400) << path << " " << r.body;
    const json e = r.json_body()["error"];
    EXPECT_EQ(e["param"], param) << r.body;
    EXPECT_NE(e["message"].get<std::string>().find(param), std::string::npos) << r.body;
  };
  const json chat = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 4}};
  json bad = chat;
  bad["lora"] = scales({{2, 1.0}});
  expect_400("/v1/chat/completions", bad, "lora[0].id");
  bad["lora"] = json::array({{{"id", 0}, {"scale", "big"}}});
  expect_400("/v1/chat/completions", bad, "lora[0].scale");
  bad["lora"] = json::array({{{"id", 0}}});
  expect_400("/v1/chat/completions", bad, "lora[0].scale");
  bad["lora"] = scales({{0, 1.0}, {0, 2.0}});
  expect_400("/v1/chat/completions", bad, "lora[1].id");
  bad["lora"] = json::object({{"id", 0}});
  expect_400("/v1/chat/completions", bad, "lora");
  expect_400("/completion",
             {{"prompt", kPrompt}, {"lora", json::array({{{"id", -1}, {"scale", 1}}})}},
             "lora[0].id");
  expect_400("/v1/completions", {{"prompt", "x"}, {"lora", scales({{0, 1e9}})}}, "lora[0].scale");
  expect_400("/lora-adapters", scales({{7, 1.0}}), "[0].id");
  // Anthropic's shape has no param: the message names the field.
  const HttpReply messages = post(port_, "/v1/messages",
                                  json{{"model", "m"},
                                       {"max_tokens", 4},
                                       {"messages", chat["messages"]},
                                       {"lora", scales({{5, 1.0}})}});
  EXPECT_EQ(messages.status, 400) << messages.body;
  EXPECT_EQ(messages.json_body()["type"], "error");
  EXPECT_NE(messages.body.find("lora[0].id"), std::string::npos) << messages.body;
  // A rejected POST changes nothing.
  const json list = get(port_, "/lora-adapters").json_body();
  EXPECT_EQ(list[0]["scale"], 1.0);
  EXPECT_EQ(list[1]["scale"], 0.5);
}

}  // namespace
}  // namespace inference::test
