// The server library in-process over the native backend and the e2e models, through real
// HTTP: every endpoint, streamed and not, the SSE framing, the error shapes, auth, admission,
// disconnects and draining.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "http_test_client.hpp"
#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
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

std::filesystem::path bpe_model() {
  return test::testdata_dir() / "models" / "e2e" / "e2e-bpe-gpt2-Q8_0.gguf";
}
std::filesystem::path spm_model() {
  return test::testdata_dir() / "models" / "e2e" / "e2e-spm-mistral-Q4_K_M.gguf";
}

#define REQUIRE_MODELS()                                                                \
  do {                                                                                  \
    if (!std::filesystem::exists(bpe_model()) || !std::filesystem::exists(spm_model())) \
      GTEST_SKIP() << "e2e models not found under " << test::testdata_dir();            \
  } while (0)

// A running server on a free loopback port, serving `path` with the native backend.
struct LiveServer {
  explicit LiveServer(const std::filesystem::path& path, ServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    if (o.drain_timeout == std::chrono::milliseconds(10000))
      o.drain_timeout = std::chrono::seconds(5);
    server = std::make_unique<Server>(o);
    port = server->bind();
    server->start();
    model = load_model(
        path,
        {.backend = "native", .context_length = 512, .parallel_slots = o.parallel, .threads = 1});
    server->set_model(model);
  }
  ~LiveServer() { server->shutdown(); }

  std::unique_ptr<Server> server;
  std::shared_ptr<TextModel> model;
  int port = 0;
};

std::string greedy(TextModel& model, const std::string& prompt, int n) {
  std::string text;
  for (const Token& t : model.generate(Context::background(), prompt, {.max_tokens = n}))
    text += t.text;
  return text;
}

// The value of one un-labelled Prometheus sample.
double metric(int port, const std::string& name) {
  const HttpReply r = get(port, "/metrics");
  const auto at = r.body.find("\n" + name + " ");
  if (at == std::string::npos) {
    ADD_FAILURE() << name << " not in /metrics";
    return -1;
  }
  return std::stod(r.body.substr(at + name.size() + 2));
}

// The concatenated delta/text content of an OpenAI stream, per choice index.
std::map<int, std::string> stream_texts(const std::vector<test::SseEvent>& events, bool chat) {
  std::map<int, std::string> texts;
  for (const auto& e : events) {
    if (e.data == "[DONE]") continue;
    const json chunk = e.json_data();
    for (const auto& c : chunk["choices"]) {
      const int i = c["index"].get<int>();
      if (chat) {
        if (c["delta"].contains("content")) texts[i] += c["delta"]["content"].get<std::string>();
      } else {
        texts[i] += c["text"].get<std::string>();
      }
    }
  }
  return texts;
}

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

struct BadRequest {
  const char* path;
  std::string body;
  int status;
  const char* param;  // "" = not checked
  const char* needle;
};

TEST(ServerHttp, EveryBadRequestClassHasItsStatusAndShape) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.max_body_bytes = 4096;
  LiveServer s(bpe_model(), o);
  const std::string user = R"("messages":[{"role":"user","content":"hi"}])";
  const std::vector<BadRequest> cases = {
      {"/v1/chat/completions", "{\"messages\": [", 400, "", "not valid JSON"},
      {"/v1/chat/completions", "[]", 400, "", "JSON object"},
      {"/v1/chat/completions", "{" + user + ",\"max_tokens\":\"many\"}", 400, "max_tokens",
       "integer"},
      {"/v1/chat/completions", R"({"messages":[{"role":"robot","content":"x"}]})", 400,
       "messages[0].role", "robot"},
      {"/v1/chat/completions", "{" + user + ",\"max_tokens\":-1}", 400, "max_tokens", "between"},
      {"/v1/chat/completions", "{" + user + ",\"n\":100000}", 400, "n", "between"},
      {"/v1/chat/completions", "{" + user + ",\"temperature\":1e308}", 400, "temperature",
       "between"},
      {"/v1/chat/completions", "{" + user + ",\"tools\":[{\"type\":\"function\"}]}", 400, "tools",
       "not supported"},
      {"/v1/chat/completions", "{" + user + ",\"max_tokens\":100000}", 400, "messages", "100000"},
      {"/v1/completions", R"({"prompt":"hi","max_tokens":600})", 400, "prompt", "512"},
      {"/v1/completions", R"({"prompt":""})", 400, "prompt", "empty"},
      {"/v1/completions", "{\"prompt\":\"" + std::string(5000, 'a') + "\"}", 413, "", "limit"},
      {"/completion", R"({"prompt":5})", 400, "prompt", "string"},
      {"/tokenize", R"({"content":[1]})", 400, "content", "string"},
  };
  for (const auto& c : cases) {
    const HttpReply r = post(s.port, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body.substr(0, 80) << " -> " << r.body;
    const json body = r.json_body();
    ASSERT_TRUE(body.contains("error")) << r.body;
    const std::string message = body["error"]["message"];
    EXPECT_NE(message.find(c.needle), std::string::npos) << message;
    EXPECT_TRUE(body["error"]["type"].is_string()) << r.body;
    if (*c.param) {
      EXPECT_EQ(body["error"]["param"], c.param) << r.body;
    }
  }
  // Context overflow names both numbers and OpenAI's code.
  const json overflow =
      post(s.port, "/v1/completions", json{{"prompt", "hi"}, {"max_tokens", 600}}).json_body();
  EXPECT_EQ(overflow["error"]["code"], "context_length_exceeded");
  EXPECT_NE(overflow["error"]["message"].get<std::string>().find("600"), std::string::npos);
  // Anthropic's shape on its endpoint.
  const HttpReply anthropic =
      post(s.port, "/v1/messages",
           json{{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(anthropic.status, 400);
  const json a = anthropic.json_body();
  EXPECT_EQ(a["type"], "error");
  EXPECT_EQ(a["error"]["type"], "invalid_request_error");
  EXPECT_NE(a["error"]["message"].get<std::string>().find("max_tokens"), std::string::npos);
  const json a_overflow = post(s.port, "/v1/messages",
                               json{{"model", "m"},
                                    {"max_tokens", 100000},
                                    {"messages", {{{"role", "user"}, {"content", "hi"}}}}})
                              .json_body();
  EXPECT_EQ(a_overflow["error"]["type"], "invalid_request_error");
  EXPECT_NE(a_overflow["error"]["message"].get<std::string>().find("100000"), std::string::npos);
  // Unknown endpoints and embeddings: 404 in OpenAI's shape.
  const HttpReply unknown = get(s.port, "/v1/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(unknown.json_body()["error"]["message"].is_string());
  const HttpReply embeddings = post(s.port, "/v1/embeddings", json{{"input", "x"}});
  EXPECT_EQ(embeddings.status, 404);
  EXPECT_NE(embeddings.json_body()["error"]["message"].get<std::string>().find("embedding"),
            std::string::npos);
}

TEST(ServerHttp, ApiKeyGuardsEverythingButHealth) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.api_key = "sekret";
  LiveServer s(bpe_model(), o);
  EXPECT_EQ(get(s.port, "/health").status, 200);
  const HttpReply none = get(s.port, "/v1/models");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json_body()["error"]["code"], "invalid_api_key");
  EXPECT_EQ(get(s.port, "/v1/models", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(get(s.port, "/v1/models", {{"Authorization", "Bearer sekret"}}).status, 200);
  EXPECT_EQ(get(s.port, "/slots", {{"x-api-key", "sekret"}}).status, 200);
  const HttpReply anthropic = post(s.port, "/v1/messages", json::object());
  EXPECT_EQ(anthropic.status, 401);
  EXPECT_EQ(anthropic.json_body()["error"]["type"], "authentication_error");
  EXPECT_EQ(get(s.port, "/metrics").status, 401);
}

// A long generation on the only slot; the client hangs up after `chunks` chunks, or once
// `release` is set.
std::thread long_stream(int port, std::atomic<int>& seen, int chunks,
                        const std::atomic<bool>* release = nullptr) {
  return std::thread([port, &seen, chunks, release] {
    post_streaming(
        port, "/completion",
        json{{"prompt", "Hello"}, {"n_predict", 480}, {"ignore_eos", true}, {"stream", true}},
        [&](const std::string&) {
          ++seen;
          if (release) return !release->load();
          return seen < chunks;
        });
  });
}

void wait_for(const std::atomic<int>& seen, int n) {
  while (seen.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

TEST(ServerHttp, AFullQueueIs429WithRetryAfter) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.parallel = 1;
  o.max_queue = 0;
  LiveServer s(bpe_model(), o);
  std::atomic<int> seen{0};
  std::atomic<bool> release{false};
  auto holder = long_stream(s.port, seen, 0, &release);
  wait_for(seen, 1);
  const HttpReply busy = post(s.port, "/v1/completions", json{{"prompt", "x"}, {"max_tokens", 1}});
  EXPECT_EQ(busy.status, 429) << busy.body;
  EXPECT_EQ(busy.json_body()["error"]["type"], "rate_limit_error");
  EXPECT_TRUE(httplib::detail::get_header_value(busy.headers, "Retry-After", 0, nullptr));
  release = true;
  holder.join();
  EXPECT_TRUE(test::wait_slots_idle(s.port));
}

TEST(ServerHttp, AStreamingClientThatHangsUpFreesItsSlot) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.parallel = 1;
  LiveServer s(bpe_model(), o);
  std::atomic<int> seen{0};
  long_stream(s.port, seen, 2).join();  // reads two chunks, then closes the connection
  EXPECT_TRUE(test::wait_slots_idle(s.port));
  // Cancelled long before its 480 tokens: nothing kept generating for nobody.
  EXPECT_LT(metric(s.port, "infer_generated_tokens_total"), 480);
  EXPECT_EQ(metric(s.port, "infer_requests_in_flight"), 0);
}

TEST(ServerHttp, ANonStreamingClientThatGivesUpFreesItsSlot) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.parallel = 1;
  LiveServer s(bpe_model(), o);
  // The client stops waiting after 150 ms and closes; the server notices with no write.
  post_streaming(
      s.port, "/completion", json{{"prompt", "Hello"}, {"n_predict", 480}, {"ignore_eos", true}},
      [](const std::string&) { return true; }, 150);
  EXPECT_TRUE(test::wait_slots_idle(s.port));
  EXPECT_LT(metric(s.port, "infer_generated_tokens_total"), 480);
}

TEST(ServerHttp, AQueuedClientThatGivesUpLeavesTheQueue) {
  REQUIRE_MODELS();
  ServerOptions o;
  o.parallel = 1;
  o.max_queue = 4;
  LiveServer s(bpe_model(), o);
  std::atomic<int> seen{0};
  std::atomic<bool> release{false};
  std::thread holder([&] {
    post_streaming(
        s.port, "/completion",
        json{{"prompt", "Hello"}, {"n_predict", 480}, {"ignore_eos", true}, {"stream", true}},
        [&](const std::string&) {
          ++seen;
          return !release.load();
        });
  });
  wait_for(seen, 1);
  std::thread waiter([&] {
    post_streaming(
        s.port, "/v1/completions", json{{"prompt", "x"}, {"max_tokens", 2}},
        [](const std::string&) { return true; }, 150);
  });
  waiter.join();  // gave up while queued
  // The queue empties while the holder still generates.
  bool left = false;
  for (int i = 0; i < 500 && !left; ++i) {
    left = metric(s.port, "infer_queue_depth") == 0;
    if (!left) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(left);
  EXPECT_EQ(metric(s.port, "infer_slots_busy"), 1);
  release = true;
  holder.join();
  EXPECT_TRUE(test::wait_slots_idle(s.port));
}

TEST(ServerHttp, ShutdownLetsInFlightRequestsFinish) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  std::atomic<int> seen{0};
  std::string body;
  std::thread client([&] {
    body = post_streaming(
               s.port, "/completion",
               json{{"prompt", "Hello"}, {"n_predict", 60}, {"ignore_eos", true}, {"stream", true}},
               [&](const std::string&) {
                 ++seen;
                 return true;
               })
               .body;
  });
  wait_for(seen, 1);
  EXPECT_TRUE(s.server->shutdown());  // drains: the request runs to its end
  client.join();
  const auto events = parse_sse(body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().json_data()["stop"], true);
  EXPECT_EQ(events.back().json_data()["tokens_predicted"], 60);
  EXPECT_EQ(get(s.port, "/health").status, -1);  // no longer listening
}

}  // namespace
}  // namespace inference::server
