// The server library in-process over the native backend and the e2e models, through real
// HTTP: every endpoint, streamed and not, and the SSE framing of each API.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "http_test_client.hpp"
#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "live_server.hpp"
#include "server/server.hpp"
#include "support/testdata.hpp"

namespace inference::server {
namespace {

using test::get;
using test::HttpReply;
using test::json;
using test::parse_sse;
using test::post;
using test::post_streaming;

// A model with no optional capabilities (no tokenizer, no token prompts) that streams a
// fixed reply and refuses any output constraint at once, as a backend refuses a bad grammar.
class ScriptedModel final : public TextModel {
 public:
  class Source final : public TokenSource {
   public:
    bool next(Token& out) override {
      if (i_ >= 3) return false;
      out = {.id = i_, .text = std::string(1, static_cast<char>('x' + i_))};
      ++i_;
      return true;
    }
    Status status() const override { return {}; }

   private:
    int32_t i_ = 0;
  };
  TokenStream generate(const Context&, std::string_view, const GenerateConfig& c) override {
    if (c.constraint.kind != OutputConstraint::Kind::none)
      return TokenStream(Status{ErrorCode::invalid_argument, "grammar: rule 'root' is undefined"});
    return TokenStream(std::make_unique<Source>());
  }
  TokenStream chat(const Context& ctx, std::span<const Message>, const GenerateConfig& c) override {
    return generate(ctx, "", c);
  }
  std::vector<ClassifyResult> classify(const Context&, std::span<const std::string>,
                                       const GenerateConfig&) override {
    return {};
  }
  std::vector<BatchResult> batch_generate(const Context&, std::span<const std::string>,
                                          const GenerateConfig&) override {
    return {};
  }
  std::string model_type() const override { return "scripted"; }
  ModelInfo info() const override {
    return {.architecture = "scripted", .name = "scripted", .backend = "test"};
  }
  GenerateMetrics metrics() const override { return {}; }
  Status err() const override { return {}; }
  void close() override {}
};

TEST(ServerHttp, ServesABackendWithoutCapabilitiesAndMapsItsRefusalsTo400) {
  ServerOptions o;
  o.port = 0;
  Server server(o);
  const int port = server.bind();
  server.start();
  server.set_model(std::make_shared<ScriptedModel>());
  const json plain =
      post(port, "/v1/completions", json{{"prompt", "anything"}, {"max_tokens", 5}}).json_body();
  EXPECT_EQ(plain["choices"][0]["text"], "xyz");
  const json chat = post(port, "/v1/chat/completions",
                         json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}})
                        .json_body();
  EXPECT_EQ(chat["choices"][0]["message"]["content"], "xyz");
  EXPECT_EQ(chat["choices"][0]["finish_reason"], "stop");
  // Refused by the backend when the stream starts: still a 400, before any byte of a 200.
  const HttpReply refused =
      post(port, "/v1/completions",
           json{{"prompt", "x"}, {"grammar", "root ::= nothing"}, {"stream", true}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.json_body()["error"]["message"].get<std::string>().find("grammar"),
            std::string::npos);
  EXPECT_EQ(post(port, "/tokenize", json{{"content", "x"}}).status, 501);
  EXPECT_EQ(post(port, "/v1/completions", json{{"prompt", {1, 2}}}).status,
            400);  // no token prompts
  server.shutdown();
}

TEST(ServerHttp, HealthIs503WhileLoadingThen200) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.port = 0;
  Server server(o);
  const int port = server.bind();
  server.start();
  HttpReply loading = get(port, "/health");
  EXPECT_EQ(loading.status, 503);
  EXPECT_EQ(loading.json_body()["error"]["message"], "Loading model");
  HttpReply chat = post(port, "/v1/chat/completions",
                        json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(chat.status, 503);
  EXPECT_TRUE(httplib::detail::get_header_value(chat.headers, "Retry-After", 0, nullptr));
  server.set_model(
      load_model(bpe_model(), {.backend = "native", .context_length = 128, .threads = 1}));
  EXPECT_EQ(get(port, "/health").status, 200);
  EXPECT_EQ(get(port, "/health").json_body()["status"], "ok");
  server.shutdown();
}

TEST(ServerHttp, ModelsListAndLookup) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.model_id = "tiny";
  LiveServer s(bpe_model(), o);
  const json list = get(s.port, "/v1/models").json_body();
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 1u);
  const json m = list["data"][0];
  EXPECT_EQ(m["id"], "tiny");
  EXPECT_EQ(m["object"], "model");
  EXPECT_TRUE(m["created"].is_number_integer());
  EXPECT_EQ(m["owned_by"], "infer");
  EXPECT_EQ(m["architecture"], "qwen2");
  EXPECT_EQ(m["context_length"], 512);
  EXPECT_GT(m["parameters"].get<int64_t>(), 0);
  EXPECT_EQ(get(s.port, "/v1/models/tiny").json_body()["id"], "tiny");
  // Browsers on other origins: CORS headers and the preflight.
  EXPECT_EQ(get(s.port, "/v1/models").headers.find("Access-Control-Allow-Origin")->second, "*");
  httplib::Client client("127.0.0.1", s.port);
  auto preflight = client.Options("/v1/chat/completions");
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_NE(preflight->get_header_value("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  const HttpReply missing = get(s.port, "/v1/models/other");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json_body()["error"]["code"], "model_not_found");
}

TEST(ServerHttp, CompletionIsTheModelsGreedyOutputWithUsage) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  const HttpReply r =
      post(s.port, "/v1/completions",
           json{{"model", "x"}, {"prompt", "Hello world"}, {"max_tokens", 12}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = r.json_body();
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  ASSERT_EQ(body["choices"].size(), 1u);
  EXPECT_EQ(body["choices"][0]["text"], greedy(*s.model, "Hello world", 12));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(body["choices"][0]["index"], 0);
  EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
  auto* tok = dynamic_cast<TokenizerModel*>(s.model.get());
  const auto prompt_tokens = static_cast<int64_t>(tok->encode("Hello world").size());
  EXPECT_EQ(body["usage"]["prompt_tokens"], prompt_tokens);
  EXPECT_EQ(body["usage"]["completion_tokens"], 12);
  EXPECT_EQ(body["usage"]["total_tokens"], prompt_tokens + 12);
}

TEST(ServerHttp, CompletionStreamFramingMatchesTheWholeResponse) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  json req = {{"prompt", "Once upon"}, {"max_tokens", 10}, {"temperature", 0}};
  const std::string whole = post(s.port, "/v1/completions", req).json_body()["choices"][0]["text"];
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  const HttpReply r = post(s.port, "/v1/completions", req);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("Content-Type")->second.find("text/event-stream"), std::string::npos);
  const auto events = parse_sse(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back().data, "[DONE]");
  const json usage_chunk = events[events.size() - 2].json_data();
  EXPECT_TRUE(usage_chunk["choices"].empty());
  EXPECT_EQ(usage_chunk["usage"]["completion_tokens"], 10);
  const json last_choice = events[events.size() - 3].json_data();
  EXPECT_EQ(last_choice["choices"][0]["finish_reason"], "length");
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    EXPECT_TRUE(events[i].json_data()["usage"].is_null()) << events[i].data;
    EXPECT_EQ(events[i].json_data()["object"], "text_completion");
  }
  EXPECT_EQ(stream_texts(events, false)[0], whole);
}

TEST(ServerHttp, ChatCompletionWholeAndStreamed) {
  REQUIRE_MODELS();
  LiveServer s(spm_model());
  // (This model's template takes no system turn: it must alternate user/assistant.)
  const std::vector<Message> messages = {{"user", "Write a haiku."}};
  json req = {{"model", "m"},
              {"messages", {{{"role", "user"}, {"content", "Write a haiku."}}}},
              {"max_tokens", 8},
              {"temperature", 0}};
  const HttpReply r = post(s.port, "/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = r.json_body();
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  const json& choice = body["choices"][0];
  EXPECT_EQ(choice["message"]["role"], "assistant");
  std::string expected;
  for (const Token& t : s.model->chat(Context::background(), messages, {.max_tokens = 8}))
    expected += t.text;
  EXPECT_EQ(choice["message"]["content"], expected);
  EXPECT_TRUE(choice["finish_reason"] == "length" || choice["finish_reason"] == "stop");
  auto* tok = dynamic_cast<TokenizerModel*>(s.model.get());
  ASSERT_NE(tok, nullptr);
  // The prompt count reported is the backend's own.
  EXPECT_GT(body["usage"]["prompt_tokens"].get<int64_t>(), 5);

  req["stream"] = true;
  const auto events = parse_sse(post(s.port, "/v1/chat/completions", req).body);
  ASSERT_GE(events.size(), 3u);
  const json first = events.front().json_data();
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_FALSE(first.contains("usage"));  // only with stream_options.include_usage
  const json last = events[events.size() - 2].json_data();
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], choice["finish_reason"]);
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(stream_texts(events, true)[0], expected);

  // A conversation the template refuses is a 400 naming the messages, before generation.
  const HttpReply refused = post(
      s.port, "/v1/chat/completions",
      json{{"messages",
            {{{"role", "system"}, {"content", "x"}}, {{"role", "system"}, {"content", "y"}}}}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(refused.json_body()["error"]["param"], "messages");
  EXPECT_NE(refused.body.find("chat template"), std::string::npos) << refused.body;
}

TEST(ServerHttp, SeveralChoicesStreamConcurrentlyWithTheirIndices) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.parallel = 2;  // three choices on two slots: the third waits for a free one
  LiveServer s(bpe_model(), o);
  json req = {{"prompt", "The"}, {"max_tokens", 6}, {"temperature", 1.0}, {"seed", 11}, {"n", 3}};
  const json whole = post(s.port, "/v1/completions", req).json_body();
  ASSERT_EQ(whole["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(whole["choices"][i]["index"], i);
  EXPECT_EQ(whole["usage"]["completion_tokens"], 18);
  req["stream"] = true;
  const auto events = parse_sse(post(s.port, "/v1/completions", req).body);
  auto texts = stream_texts(events, false);
  ASSERT_EQ(texts.size(), 3u);
  int finished = 0;
  for (const auto& e : events)
    if (e.data != "[DONE]" && !e.json_data()["choices"][0]["finish_reason"].is_null()) ++finished;
  EXPECT_EQ(finished, 3);
  // Same seed, same request: the same choices, whatever ran beside them.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(texts[i], whole["choices"][i]["text"]) << i;
}

TEST(ServerHttp, ChatLogprobsAndLegacyCompletionLogprobs) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  const json chat = post(s.port, "/v1/chat/completions",
                         json{{"messages", {{{"role", "user"}, {"content", "hi"}}}},
                              {"max_tokens", 3},
                              {"temperature", 0},
                              {"logprobs", true},
                              {"top_logprobs", 2}})
                        .json_body();
  const json& content = chat["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 3u) << chat.dump();
  std::string joined;
  for (const auto& e : content) {
    EXPECT_TRUE(e["token"].is_string());
    EXPECT_LE(e["logprob"].get<double>(), 0.0);
    EXPECT_TRUE(e["bytes"].is_array());
    EXPECT_EQ(e["top_logprobs"].size(), 2u);
    // Greedy: the chosen token is the best alternative.
    EXPECT_FLOAT_EQ(e["top_logprobs"][0]["logprob"].get<float>(), e["logprob"].get<float>());
    joined += e["token"].get<std::string>();
  }
  EXPECT_EQ(joined, chat["choices"][0]["message"]["content"]);

  const json legacy =
      post(s.port, "/v1/completions",
           json{{"prompt", "Hi"}, {"max_tokens", 3}, {"temperature", 0}, {"logprobs", 2}})
          .json_body();
  const json& lp = legacy["choices"][0]["logprobs"];
  EXPECT_EQ(lp["tokens"].size(), 3u);
  EXPECT_EQ(lp["token_logprobs"].size(), 3u);
  EXPECT_EQ(lp["top_logprobs"].size(), 3u);
  EXPECT_EQ(lp["top_logprobs"][0].size(), 2u);
  EXPECT_EQ(lp["text_offset"][0], 0);
}

TEST(ServerHttp, StopStringsEchoAndZeroMaxTokens) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  const std::string text = greedy(*s.model, "Hello world", 8);
  ASSERT_GT(text.size(), 6u);
  const std::string stop = text.substr(3, 3);
  const json stopped =
      post(s.port, "/v1/completions",
           json{{"prompt", "Hello world"}, {"max_tokens", 8}, {"temperature", 0}, {"stop", stop}})
          .json_body();
  EXPECT_EQ(stopped["choices"][0]["text"], text.substr(0, text.find(stop)));
  EXPECT_EQ(stopped["choices"][0]["finish_reason"], "stop");
  const json echoed =
      post(s.port, "/v1/completions",
           json{{"prompt", "Hello world"}, {"max_tokens", 8}, {"temperature", 0}, {"echo", true}})
          .json_body();
  EXPECT_EQ(echoed["choices"][0]["text"], "Hello world" + text);
  const json nothing = post(s.port, "/v1/completions",
                            json{{"prompt", "Hello world"}, {"max_tokens", 0}, {"echo", true}})
                           .json_body();
  EXPECT_EQ(nothing["choices"][0]["text"], "Hello world");
  EXPECT_EQ(nothing["usage"]["completion_tokens"], 0);
}

TEST(ServerHttp, AnthropicMessagesWholeStreamedAndCounted) {
  REQUIRE_MODELS();
  LiveServer s(spm_model());
  json req = {{"model", "m"},
              {"max_tokens", 6},
              {"temperature", 0},
              {"messages", {{{"role", "user"}, {"content", "Write a haiku."}}}}};
  const HttpReply r = post(s.port, "/v1/messages", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json msg = r.json_body();
  EXPECT_EQ(msg["type"], "message");
  EXPECT_EQ(msg["role"], "assistant");
  EXPECT_EQ(msg["id"].get<std::string>().rfind("msg_", 0), 0u);
  ASSERT_EQ(msg["content"].size(), 1u);
  EXPECT_EQ(msg["content"][0]["type"], "text");
  EXPECT_TRUE(msg["stop_reason"] == "max_tokens" || msg["stop_reason"] == "end_turn");
  EXPECT_TRUE(msg["stop_sequence"].is_null());
  const int64_t input_tokens = msg["usage"]["input_tokens"];
  EXPECT_GT(input_tokens, 0);
  EXPECT_GT(msg["usage"]["output_tokens"].get<int64_t>(), 0);

  const json counted =
      post(s.port, "/v1/messages/count_tokens",
           json{{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "Write a haiku."}}}}})
          .json_body();
  EXPECT_EQ(counted["input_tokens"], input_tokens);

  req["stream"] = true;
  const auto events = parse_sse(post(s.port, "/v1/messages", req).body);
  std::vector<std::string> kinds;
  std::string text;
  for (const auto& e : events) {
    const json data = e.json_data();
    EXPECT_EQ(data["type"], e.event);  // event name and payload type agree
    if (kinds.empty() || kinds.back() != e.event) kinds.push_back(e.event);
    if (e.event == "content_block_delta") {
      EXPECT_EQ(data["delta"]["type"], "text_delta");
      text += data["delta"]["text"].get<std::string>();
    }
    if (e.event == "message_start") {
      EXPECT_EQ(data["message"]["usage"]["input_tokens"], input_tokens);
    }
    if (e.event == "message_delta") {
      EXPECT_EQ(data["delta"]["stop_reason"], msg["stop_reason"]);
      EXPECT_EQ(data["usage"]["output_tokens"], msg["usage"]["output_tokens"]);
    }
  }
  const std::vector<std::string> expected = {
      "message_start",      "content_block_start", "ping",        "content_block_delta",
      "content_block_stop", "message_delta",       "message_stop"};
  EXPECT_EQ(kinds, expected);
  EXPECT_EQ(text, msg["content"][0]["text"]);
}

TEST(ServerHttp, LlamaServerEndpoints) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  const json tokens = post(s.port, "/tokenize", json{{"content", "Hello world"}}).json_body();
  ASSERT_EQ(tokens["tokens"].size(), 2u);
  const json pieces =
      post(s.port, "/tokenize", json{{"content", "Hello world"}, {"with_pieces", true}})
          .json_body();
  EXPECT_EQ(pieces["tokens"][1]["piece"], " world");
  EXPECT_EQ(post(s.port, "/detokenize", json{{"tokens", tokens["tokens"]}}).json_body()["content"],
            "Hello world");
  const json tmpl =
      post(s.port, "/apply-template", json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}})
          .json_body();
  EXPECT_NE(tmpl["prompt"].get<std::string>().find("hi"), std::string::npos);
  const json props = get(s.port, "/props").json_body();
  EXPECT_EQ(props["total_slots"], 4);
  EXPECT_EQ(props["default_generation_settings"]["n_ctx"], 512);
  const json slots = get(s.port, "/slots").json_body();
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[0]["id"], 0);
  EXPECT_EQ(slots[0]["is_processing"], false);

  json req = {{"prompt", "Hello world"},
              {"n_predict", 5},
              {"temperature", 0},
              {"return_tokens", true},
              {"n_probs", 2}};
  const json whole = post(s.port, "/completion", req).json_body();
  EXPECT_EQ(whole["content"], greedy(*s.model, "Hello world", 5));
  EXPECT_EQ(whole["stop"], true);
  EXPECT_EQ(whole["tokens"].size(), 5u);
  EXPECT_EQ(whole["tokens_predicted"], 5);
  EXPECT_EQ(whole["tokens_evaluated"], 2);
  EXPECT_EQ(whole["stop_type"], "limit");
  EXPECT_EQ(whole["completion_probabilities"].size(), 5u);
  EXPECT_EQ(whole["completion_probabilities"][0]["top_logprobs"].size(), 2u);
  EXPECT_TRUE(whole["timings"]["predicted_n"].is_number());
  req["stream"] = true;
  const auto events = parse_sse(post(s.port, "/completion", req).body);
  ASSERT_EQ(events.size(), 6u);  // five tokens, then the totals; no [DONE] on this endpoint
  std::string text;
  for (size_t i = 0; i < 5; ++i) {
    const json e = events[i].json_data();
    EXPECT_EQ(e["stop"], false);
    text += e["content"].get<std::string>();
  }
  EXPECT_EQ(text, whole["content"]);
  EXPECT_EQ(events[5].json_data()["stop"], true);
  EXPECT_EQ(events[5].json_data()["stop_type"], "limit");
}

TEST(ServerHttp, MetricsCountRequestsAndTokens) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  ASSERT_EQ(
      post(s.port, "/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 4}, {"temperature", 0}})
          .status,
      200);
  // The count is taken once the response is written, a moment after the client has it.
  const std::string line = "infer_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1";
  bool counted = false;
  for (int i = 0; i < 500 && !counted; ++i) {
    counted = get(s.port, "/metrics").body.find(line) != std::string::npos;
    if (!counted) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(counted) << line;
  EXPECT_EQ(metric(s.port, "infer_generated_tokens_total"), 4);
  EXPECT_EQ(metric(s.port, "infer_requests_in_flight"), 0);
  EXPECT_EQ(metric(s.port, "infer_slots_total"), 4);
  EXPECT_EQ(metric(s.port, "infer_kv_cache_capacity_tokens"), 4 * 512);
  EXPECT_EQ(metric(s.port, "infer_time_to_first_token_seconds_count"), 1);
  EXPECT_EQ(metric(s.port, "infer_inter_token_latency_seconds_count"), 3);
  EXPECT_GT(metric(s.port, "infer_decode_tokens_per_second"), 0);
}

}  // namespace
}  // namespace inference::server
