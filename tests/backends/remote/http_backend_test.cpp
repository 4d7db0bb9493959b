// The http backend against scripted loopback servers: streaming, every sampling field on the
// wire, classify through logprobs, the Anthropic dialect, and the faults — connection refused,
// reset mid-stream, 500, 429 with Retry-After, a hang, cancellation — plus the pool's routing and
// circuit breaker and the rule that an API key never appears in a message.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "backends/http/http_model.hpp"
#include "backends/llama_server/child_process.hpp"
#include "backends/remote/scripted_server.hpp"
#include "inference/backend.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

LoadConfig fast_config(std::map<std::string, std::string> extra = {}) {
  LoadConfig c;
  c.backend = "http";
  c.remote_model = "m";
  c.options = {{"retry_base_ms", "5"},
               {"retry_max_ms", "20"},
               {"health_interval_ms", "0"},
               {"timeout_ms", "5000"}};
  for (auto& [k, v] : extra) c.options[k] = v;
  return c;
}

struct Collected {
  std::string text;
  int tokens = 0;
  Status status;
  GenerateMetrics metrics;
};

Collected collect(TokenStream stream) {
  Collected c;
  for (const Token& t : stream) {
    c.text += t.text;
    ++c.tokens;
  }
  c.status = stream.err();
  c.metrics = stream.metrics();
  return c;
}

void answer_three_tokens(httplib::Server& s, ScriptedServer& self) {
  s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
    self.record(req);
    ScriptedServer::stream(
        res, {completion_chunk("Hel"), completion_chunk("lo"), completion_chunk(" world", "length"),
              "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3}}\n\n",
              "data: [DONE]\n\n"});
  });
}

TEST(HttpBackend, StreamsACompletionWithUsageMetrics) {
  ScriptedServer server(answer_three_tokens);
  auto model = load_model(server.url(), fast_config());
  auto got = collect(model->generate(Context::background(), "Hi", {.max_tokens = 3}));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, "Hello world");
  EXPECT_EQ(got.tokens, 3);
  EXPECT_EQ(got.metrics.prompt_tokens, 4);
  EXPECT_EQ(got.metrics.generated_tokens, 3);
  EXPECT_EQ(got.metrics.finish_reason, FinishReason::length);
  EXPECT_GT(got.metrics.time_to_first_token.count(), 0);
  EXPECT_EQ(model->metrics().generated_tokens, 3);
  EXPECT_EQ(model->info().backend, "http");
}

// llama-server (and `infer serve`) end an OpenAI stream with their own `timings`: the rates are
// the server's, not what the client's clock saw.
TEST(HttpBackend, MetricsComeFromTheServersTimingsWhenReported) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/chat/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      ScriptedServer::stream(
          res, {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n",
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}\n\n",
                "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                "\"timings\":{\"prompt_n\":8,\"prompt_ms\":4.0,\"predicted_n\":2,"
                "\"predicted_ms\":40.0,\"cache_n\":3}}\n\n",
                "data: [DONE]\n\n"});
    });
  });
  auto model = load_model(server.url(), fast_config());
  std::vector<Message> messages = {{.role = "user", .content = "Hi"}};
  auto got = collect(model->chat(Context::background(), messages));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.metrics.prompt_tokens, 8);
  EXPECT_EQ(got.metrics.cached_prompt_tokens, 3);
  EXPECT_EQ(got.metrics.generated_tokens, 2);
  EXPECT_EQ(got.metrics.prefill_duration, milliseconds(4));
  EXPECT_EQ(got.metrics.decode_duration, milliseconds(40));
  EXPECT_NEAR(got.metrics.prefill_tokens_per_second, 2000.0, 1e-6);
  EXPECT_NEAR(got.metrics.decode_tokens_per_second, 50.0, 1e-9);
  EXPECT_GT(got.metrics.time_to_first_token.count(), 0);
}

// A seed above INT64_MAX (a proxy's random draw) was forwarded as-is and refused by servers
// that read a signed 64-bit seed: it is folded into that range.
TEST(HttpBackend, ASeedBeyondInt64IsFoldedIntoRange) {
  ScriptedServer server(answer_three_tokens);
  auto model = load_model(server.url(), fast_config());
  auto got = collect(model->generate(Context::background(), "Hi",
                                     {.max_tokens = 3, .seed = 0x8000'0000'0000'0005ull}));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  auto body = json::parse(server.requests().at(0).body);
  ASSERT_TRUE(body["seed"].is_number_integer());
  EXPECT_EQ(body["seed"].get<int64_t>(), 5);
}

TEST(HttpBackend, CrLfLineEndsAndKeepAliveComments) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      // CRLF line ends and a keep-alive comment, as proxies and some servers send them.
      ScriptedServer::stream(res, {": keep-alive\r\n\r\n", completion_chunk("caf"),
                                   completion_chunk("\xC3\xA9!", "stop"), "data: [DONE]\r\n\r\n"});
    });
  });
  auto model = load_model(server.url(), fast_config());
  std::vector<std::string> pieces;
  auto stream = model->generate(Context::background(), "Hi");
  for (const Token& t : stream) pieces.push_back(t.text);
  ASSERT_TRUE(stream.err().ok()) << stream.err().message;
  EXPECT_EQ(pieces, (std::vector<std::string>{"caf", "\xC3\xA9!"}));
}

TEST(HttpBackendFaults, MalformedEventsEndTheStreamWithAClearError) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      // Half a UTF-8 character cannot be passed on: the event is rejected, not split.
      ScriptedServer::stream(res, {completion_chunk("ok"),
                                   "data: {\"choices\":[{\"index\":0,\"text\":\"caf\xC3\"}]}\n\n",
                                   "data: [DONE]\n\n"});
    });
  });
  auto model = load_model(server.url(), fast_config());
  auto got = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(got.text, "ok");
  EXPECT_EQ(got.status.code, ErrorCode::backend);
  EXPECT_NE(got.status.message.find("malformed event"), std::string::npos) << got.status.message;
  EXPECT_EQ(server.count("/v1/completions"), 1u);
}

TEST(HttpBackend, ForwardsEverySamplingField) {
  ScriptedServer server(answer_three_tokens);
  auto model = load_model(server.url(), fast_config());
  GenerateConfig g;
  g.max_tokens = 7;
  g.temperature = 0.5f;
  g.top_k = 20;
  g.top_p = 0.9f;
  g.min_p = 0.1f;
  g.repeat_penalty = 1.2f;
  g.presence_penalty = 0.3f;
  g.frequency_penalty = 0.4f;
  g.seed = 42;
  g.stop = {"\n\n"};
  g.logprobs = 2;
  g.ignore_eos = true;
  g.logit_bias = {{17, -100.0f}};
  g.constraint = {OutputConstraint::Kind::gbnf, "root ::= \"a\""};
  auto got = collect(model->generate(Context::background(), "Hi", g));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  auto body = json::parse(server.requests().at(0).body);
  EXPECT_EQ(body["model"], "m");
  EXPECT_EQ(body["prompt"], "Hi");
  EXPECT_EQ(body["max_tokens"], 7);
  EXPECT_FLOAT_EQ(body["temperature"].get<float>(), 0.5f);
  EXPECT_EQ(body["top_k"], 20);
  EXPECT_FLOAT_EQ(body["top_p"].get<float>(), 0.9f);
  EXPECT_FLOAT_EQ(body["min_p"].get<float>(), 0.1f);
  EXPECT_FLOAT_EQ(body["repeat_penalty"].get<float>(), 1.2f);
  EXPECT_FLOAT_EQ(body["presence_penalty"].get<float>(), 0.3f);
  EXPECT_FLOAT_EQ(body["frequency_penalty"].get<float>(), 0.4f);
  EXPECT_EQ(body["seed"], 42);
  EXPECT_EQ(body["stop"], json::array({"\n\n"}));
  EXPECT_EQ(body["logprobs"], 2);
  EXPECT_EQ(body["ignore_eos"], true);
  EXPECT_FLOAT_EQ(body["logit_bias"]["17"].get<float>(), -100.0f);
  EXPECT_EQ(body["grammar"], "root ::= \"a\"");
  EXPECT_EQ(body["stream"], true);
}

TEST(HttpBackend, StopTokensAreRejectedClearlyBecauseTheStreamHasNoIds) {
  ScriptedServer server(answer_three_tokens);
  auto model = load_model(server.url(), fast_config());
  auto stream = model->generate(Context::background(), "Hi", {.stop_tokens = {5}});
  EXPECT_EQ(collect(std::move(stream)).status.code, ErrorCode::unsupported);
}

TEST(HttpBackend, ChatSendsMessagesAndReadsDeltas) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/chat/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      ScriptedServer::stream(
          res, {"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour\"}}]}\n\n",
                "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
                "data: [DONE]\n\n"});
    });
  });
  auto model = load_model(server.url(), fast_config());
  std::vector<Message> messages = {{.role = "system", .content = "Be French."},
                                   {.role = "user", .content = "Hello"}};
  auto got = collect(model->chat(Context::background(), messages));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, "Bonjour");
  EXPECT_EQ(got.metrics.finish_reason, FinishReason::eos);
  auto body = json::parse(server.requests().at(0).body);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][1]["content"], "Hello");
}

TEST(HttpBackend, AnthropicMessagesDialect) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/messages", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      EXPECT_EQ(req.get_header_value("x-api-key"), "sk-ant-test");
      EXPECT_FALSE(req.get_header_value("anthropic-version").empty());
      ScriptedServer::stream(
          res,
          {"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{"
           "\"input_tokens\":9}}}\n\n",
           "event: ping\ndata: {\"type\":\"ping\"}\n\n",
           "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{"
           "\"type\":\"text_delta\",\"text\":\"Yes\"}}\n\n",
           "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
           "\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n",
           "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"});
    });
  });
  LoadConfig c = fast_config({{"api", "anthropic"}});
  c.api_key = "sk-ant-test";
  auto model = load_model(server.url(), c);
  std::vector<Message> messages = {{.role = "system", .content = "Judge."},
                                   {.role = "user", .content = "Is it good?"}};
  auto got = collect(model->chat(Context::background(), messages, {.max_tokens = 5}));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, "Yes");
  EXPECT_EQ(got.metrics.prompt_tokens, 9);
  auto body = json::parse(server.requests().at(0).body);
  EXPECT_EQ(body["system"], "Judge.");
  EXPECT_EQ(body["messages"].size(), 1u);
  EXPECT_EQ(body["max_tokens"], 5);
  EXPECT_EQ(collect(model->generate(Context::background(), "x")).status.code,
            ErrorCode::unsupported);
}

TEST(HttpBackend, ClassifyReadsTheTopLogprob) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      auto body = json::parse(req.body);
      std::string answer = body["prompt"] == "2+2=" ? "4" : "no";
      json out = {{"choices",
                   {{{"text", answer},
                     {"logprobs",
                      {{"tokens", {answer}},
                       {"token_logprobs", {-0.25}},
                       {"top_logprobs", {{{answer, -0.25}, {"x", -3.0}}}}}}}}}};
      res.set_content(out.dump(), "application/json");
    });
  });
  auto model = load_model(server.url(), fast_config());
  std::vector<std::string> prompts = {"2+2=", "Is the sky green?"};
  auto results = model->classify(Context::background(), prompts);
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(results[0].status.ok()) << results[0].status.message;
  EXPECT_EQ(results[0].token.text, "4");
  ASSERT_TRUE(results[0].token.logprob.has_value());
  EXPECT_FLOAT_EQ(*results[0].token.logprob, -0.25f);
  ASSERT_EQ(results[0].token.top_logprobs.size(), 2u);
  EXPECT_EQ(results[0].token.top_logprobs[0].text, "4");
  EXPECT_EQ(results[1].token.text, "no");
  for (const auto& r : server.requests()) {
    auto body = json::parse(r.body);
    EXPECT_EQ(body["max_tokens"], 1);
    EXPECT_EQ(body["stream"], false);
  }
}

TEST(HttpBackend, DefaultModelIsTheFirstListed) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer&) {
    s.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"data":[{"id":"first"},{"id":"second"}]})", "application/json");
    });
  });
  LoadConfig c = fast_config();
  c.remote_model.clear();
  EXPECT_EQ(load_model(server.url(), c)->info().name, "first");
}

TEST(HttpBackendFaults, ConnectionRefusedIsABackendErrorNamingTheServer) {
  int port = llama_server::pick_free_port();  // nothing listens there
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  auto model = load_model(url, fast_config({{"retries", "2"}}));
  auto got = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(got.status.code, ErrorCode::backend);
  EXPECT_NE(got.status.message.find("cannot connect to " + url), std::string::npos)
      << got.status.message;
  EXPECT_EQ(got.metrics.finish_reason, FinishReason::error);
}

TEST(HttpBackendFaults, ResetMidStreamIsNotRetriedOnceTokensStreamed) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      ScriptedServer::stream(res,
                             {completion_chunk("a"), completion_chunk("b"),
                              completion_chunk("c", "stop"), "data: [DONE]\n\n"},
                             {}, /*reset_after=*/2);
    });
  });
  auto model = load_model(server.url(), fast_config({{"retries", "3"}}));
  auto got = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(got.text, "ab");
  EXPECT_EQ(got.status.code, ErrorCode::backend);
  EXPECT_NE(got.status.message.find("after output had streamed"), std::string::npos)
      << got.status.message;
  EXPECT_EQ(server.count("/v1/completions"), 1u);  // a retry would repeat "ab"
}

TEST(HttpBackendFaults, A500IsRetriedAndThenSucceeds) {
  std::atomic<int> calls{0};
  ScriptedServer server([&calls](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      if (calls++ == 0) {
        res.status = 500;
        res.set_content(R"({"error":{"message":"boom"}})", "application/json");
        return;
      }
      ScriptedServer::stream(res, {completion_chunk("ok", "stop"), "data: [DONE]\n\n"});
    });
  });
  auto model = load_model(server.url(), fast_config());
  auto got = collect(model->generate(Context::background(), "Hi"));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, "ok");
  EXPECT_EQ(server.count("/v1/completions"), 2u);
}

TEST(HttpBackendFaults, PersistentServerErrorGivesUpWithTheServersMessage) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      res.status = 503;
      res.set_content(R"({"error":{"message":"overloaded"}})", "application/json");
    });
  });
  auto model = load_model(server.url(), fast_config({{"retries", "3"}}));
  auto got = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(got.status.code, ErrorCode::backend);
  EXPECT_NE(got.status.message.find("503: overloaded"), std::string::npos) << got.status.message;
  EXPECT_NE(got.status.message.find("gave up after 3 attempts"), std::string::npos);
  EXPECT_EQ(server.count("/v1/completions"), 3u);
}

TEST(HttpBackendFaults, A429WaitsForRetryAfter) {
  std::atomic<int> calls{0};
  ScriptedServer server([&calls](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      if (calls++ == 0) {
        res.status = 429;
        res.set_header("Retry-After", "1");
        res.set_content("slow down", "text/plain");
        return;
      }
      ScriptedServer::stream(res, {completion_chunk("ok", "stop"), "data: [DONE]\n\n"});
    });
  });
  auto model = load_model(server.url(), fast_config({{"retry_max_ms", "5000"}}));
  auto got = collect(model->generate(Context::background(), "Hi"));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  // The second attempt came no sooner than the server asked (a lower bound: cannot flake).
  EXPECT_GE(reqs[1].at - reqs[0].at, milliseconds(1000));
}

TEST(HttpBackendFaults, ABadRequestIsNotRetriedAndKeepsTheServersMessage) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      res.status = 400;
      res.set_content(R"({"error":{"message":"the request exceeds the available context size"}})",
                      "application/json");
    });
  });
  auto model = load_model(server.url(), fast_config());
  auto got = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(got.status.code, ErrorCode::invalid_argument);
  EXPECT_NE(got.status.message.find("exceeds the available context"), std::string::npos);
  EXPECT_EQ(server.count("/v1/completions"), 1u);
}

TEST(HttpBackendFaults, AHangingServerTimesOut) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      // One token, then silence far longer than the client's read timeout.
      ScriptedServer::stream(res, {completion_chunk("a"), completion_chunk("b")},
                             milliseconds(30000), -1, &self);
    });
  });
  auto model = load_model(server.url(), fast_config({{"timeout_ms", "300"}}));
  auto got = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(got.text, "a");
  EXPECT_EQ(got.status.code, ErrorCode::backend);
  EXPECT_NE(got.status.message.find("timed out"), std::string::npos) << got.status.message;
}

TEST(HttpBackendFaults, CancellationAndDeadlineEndASlowStream) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      std::vector<std::string> events(1000, completion_chunk("x"));
      ScriptedServer::stream(res, events, milliseconds(20), -1, &self);
    });
  });
  auto model = load_model(server.url(), fast_config());
  Context ctx = Context::background().with_cancel();
  auto stream = model->generate(ctx, "Hi");
  Token t;
  ASSERT_TRUE(stream.next(t));
  ctx.cancel();
  EXPECT_FALSE(stream.next(t));  // within one token
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);
  EXPECT_EQ(stream.finish_reason(), FinishReason::cancelled);

  auto timed = model->generate(Context::background().with_timeout(milliseconds(100)), "Hi");
  auto got = collect(std::move(timed));
  EXPECT_EQ(got.status.code, ErrorCode::deadline_exceeded);
  EXPECT_EQ(got.metrics.finish_reason, FinishReason::deadline);

  // Leaving a stream early (destroying it) stops the request too: nothing hangs here.
  { auto early = model->generate(Context::background(), "Hi"); }
}

TEST(HttpBackendFaults, TheApiKeyNeverAppearsInAnError) {
  const std::string key = "sk-secret-123456";
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      res.status = 401;  // a careless server that echoes the credential
      res.set_content(
          "{\"error\":{\"message\":\"invalid key " + req.get_header_value("Authorization") + "\"}}",
          "application/json");
    });
  });
  ::setenv("INFERENCE_TEST_HTTP_KEY", key.c_str(), 1);
  LoadConfig c = fast_config();
  c.api_key_env = "INFERENCE_TEST_HTTP_KEY";
  auto model = load_model(server.url(), c);
  auto got = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(server.requests().at(0).authorization, "Bearer " + key);
  EXPECT_EQ(got.status.code, ErrorCode::backend);
  EXPECT_NE(got.status.message.find("API key"), std::string::npos) << got.status.message;
  EXPECT_EQ(got.status.message.find(key), std::string::npos) << got.status.message;

  c.api_key_env = "INFERENCE_TEST_HTTP_KEY_UNSET";
  try {
    load_model(server.url(), c);
    FAIL() << "an unset key variable must fail the load";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("INFERENCE_TEST_HTTP_KEY_UNSET"), std::string::npos);
  }
}

TEST(HttpBackendFaults, BadOptionsAndUrlsAreClearErrors) {
  auto expect_invalid = [](const std::string& url, LoadConfig c, const std::string& needle) {
    try {
      load_model(url, c);
      FAIL() << "expected an error for " << url;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_invalid("ftp://x/v1", fast_config(), "scheme");
  expect_invalid("http://user:pw@host/v1", fast_config(), "credentials");
  expect_invalid("http://host:99999/v1", fast_config(), "port");
  expect_invalid("http://127.0.0.1:1/v1", fast_config({{"timeout_ms", "soon"}}), "timeout_ms");
  expect_invalid("http://127.0.0.1:1/v1", fast_config({{"api", "grpc"}}), "api");
}

TEST(HttpPool, RoutesAroundAFailingEndpointAndPutsItBack) {
  std::atomic<bool> broken{true};
  auto good = [](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      ScriptedServer::stream(res, {completion_chunk("ok", "stop"), "data: [DONE]\n\n"});
    });
    s.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"data":[{"id":"m"}]})", "application/json");
    });
  };
  ScriptedServer a(good);
  ScriptedServer b([&](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      if (broken) {
        res.status = 502;
        return;
      }
      ScriptedServer::stream(res, {completion_chunk("ok", "stop"), "data: [DONE]\n\n"});
    });
    s.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
      res.status = broken ? 503 : 200;
      res.set_content(R"({"data":[{"id":"m"}]})", "application/json");
    });
  });
  LoadConfig c = fast_config({{"failure_threshold", "1"}, {"health_interval_ms", "20"}});
  c.endpoints = {b.url()};
  http::HttpModelOptions options = http::http_options(a.url(), c);
  http::HttpModel model(options);
  for (int i = 0; i < 6; ++i) {
    auto got = collect(model.generate(Context::background(), "Hi"));
    ASSERT_TRUE(got.status.ok()) << got.status.message;  // b's 502 is retried on a
  }
  auto state = model.endpoints();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_TRUE(state[0].healthy);
  EXPECT_FALSE(state[1].healthy);  // taken out after its failure
  EXPECT_EQ(b.count("/v1/completions"), 1u);
  EXPECT_EQ(a.count("/v1/completions"), 6u);

  broken = false;
  // The periodic health probe (every 20 ms here) puts it back in service.
  for (int i = 0; i < 500 && !model.endpoints()[1].healthy; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_TRUE(model.endpoints()[1].healthy);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(collect(model.generate(Context::background(), "Hi")).status.ok());
  EXPECT_GT(b.count("/v1/completions"), 1u);
}

TEST(HttpPool, LeastInFlightSpreadsConcurrentRequests) {
  auto slow = [](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      ScriptedServer::stream(
          res, {completion_chunk("a"), completion_chunk("b", "stop"), "data: [DONE]\n\n"},
          milliseconds(50), -1, &self);
    });
  };
  ScriptedServer a(slow), b(slow);
  LoadConfig c = fast_config();
  c.endpoints = {b.url()};
  auto model = load_model(a.url(), c);
  // Two streams open at once: the second goes to the endpoint with nothing in flight.
  auto s1 = model->generate(Context::background(), "1");
  auto s2 = model->generate(Context::background(), "2");
  EXPECT_TRUE(collect(std::move(s1)).status.ok());
  EXPECT_TRUE(collect(std::move(s2)).status.ok());
  EXPECT_EQ(a.count("/v1/completions"), 1u);
  EXPECT_EQ(b.count("/v1/completions"), 1u);
}

TEST(HttpPool, APoolFileNamesTheEndpointsModelAndOptions) {
  auto slow = [](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      ScriptedServer::stream(res, {completion_chunk("ok", "stop"), "data: [DONE]\n\n"},
                             milliseconds(30), -1, &self);
    });
  };
  ScriptedServer a(slow), b(slow);
  auto file = make_temp_dir("http_pool") / "pool.json";
  std::ofstream(file) << json({{"urls", {a.url(), b.url()}},
                               {"model", "judge"},
                               {"options", {{"health_interval_ms", "0"}, {"retries", 2}}}})
                             .dump();
  auto model = load_model(file, {.backend = "http"});
  EXPECT_EQ(model->info().name, "judge");
  std::vector<std::string> prompts(6, "Hi");
  for (const auto& r : model->batch_generate(Context::background(), prompts))
    EXPECT_TRUE(r.status.ok()) << r.status.message;
  EXPECT_GT(a.count("/v1/completions"), 0u);  // concurrent requests spread over both
  EXPECT_GT(b.count("/v1/completions"), 0u);
  EXPECT_EQ(a.count("/v1/completions") + b.count("/v1/completions"), 6u);

  std::ofstream(file) << R"({"urls": "http://x/v1"})";
  try {
    load_model(file, {.backend = "http"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("'urls' must be an array"), std::string::npos);
  }
}

TEST(HttpPool, AllEndpointsOutIsUnavailable) {
  int p1 = llama_server::pick_free_port();
  std::string u1 = "http://127.0.0.1:" + std::to_string(p1) + "/v1";
  LoadConfig c = fast_config({{"failure_threshold", "1"}, {"retries", "1"}});
  auto model = load_model(u1, c);
  EXPECT_EQ(collect(model->generate(Context::background(), "Hi")).status.code, ErrorCode::backend);
  auto second = collect(model->generate(Context::background(), "Hi"));
  EXPECT_EQ(second.status.code, ErrorCode::unavailable);
  EXPECT_NE(second.status.message.find("out of service"), std::string::npos)
      << second.status.message;
  model->close();
  model->close();  // idempotent
  EXPECT_EQ(collect(model->generate(Context::background(), "Hi")).status.code,
            ErrorCode::unavailable);
}

}  // namespace
}  // namespace inference::test
