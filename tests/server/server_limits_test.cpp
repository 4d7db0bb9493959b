// The server's limits over real HTTP: every bad-request class with its status and error shape,
// the API key, the bounded queue (429), clients that hang up (streaming, waiting, queued) freeing
// their slot, and draining on shutdown.
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
      {"/v1/chat/completions", "{" + user + ",\"tools\":[{\"type\":\"function\"}]}", 400,
       "tools[0].function", "required"},
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
