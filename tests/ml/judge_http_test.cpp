// Judge suites through the `http` backend: against a scripted judge server (canned JSON,
// malformed JSON, 5xx, a hang, the concurrency bound measured at the server) and against a real
// `infer serve` on loopback, whose verdicts must equal the same model judging in process.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "backends/llama_server/server_supervisor.hpp"
#include "backends/remote/scripted_server.hpp"
#include "inference/backend.hpp"
#include "ml/judge.hpp"
#include "ml/scorer.hpp"
#include "support/testdata.hpp"

namespace inference::ml {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using test::ScriptedServer;

const char* kGoodToxigen = R"({"kindness": 4, "awareness": 2, "reasoning": "fine"})";

Response item(const std::string& id) {
  Response r;
  r.id = id;
  r.prompt = "a prompt";
  r.response = "Answer number " + id;
  r.has_response = true;
  r.model = "m";
  return r;
}

// An OpenAI chat stream whose one content delta is `text`.
void chat_reply(httplib::Response& res, const std::string& text) {
  json delta = {{"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}};
  ScriptedServer::stream(
      res, {"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            "data: " + delta.dump() + "\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n"});
}

// The user turns of a recorded chat request, joined.
std::string user_text(const std::string& body) {
  std::string all;
  const json parsed = json::parse(body);  // named: a temporary would die before the loop body
  for (const auto& m : parsed["messages"])
    if (m["role"] == "user") all += m["content"].get<std::string>() + "\n";
  return all;
}

std::unique_ptr<TextModel> http_judge(const ScriptedServer& server,
                                      std::map<std::string, std::string> extra = {}) {
  LoadConfig c;
  c.backend = "http";
  c.remote_model = "judge";
  c.options = {{"retry_base_ms", "5"},
               {"retry_max_ms", "20"},
               {"health_interval_ms", "0"},
               {"timeout_ms", "5000"}};
  for (auto& [k, v] : extra) c.options[k] = v;
  return load_model(server.url(), c);
}

TEST(HttpJudge, CannedJsonScoresTheItemAndTheSchemaIsSent) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/chat/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      chat_reply(res, std::string("```json\n") + kGoodToxigen + "\n```");
    });
  });
  auto model = http_judge(server);
  Judge judge(*model);
  auto out = judge.judge(Context::background(), *find_rubric("toxigen"), item("1"));
  ASSERT_TRUE(out.scores) << out.error;
  EXPECT_EQ((*out.scores)["kindness"], 4);
  EXPECT_EQ((*out.scores)["awareness"], 2);
  EXPECT_EQ(out.attempts, 1);
  // The rubric's JSON Schema travels as response_format, so a constraining server obeys it.
  auto body = json::parse(server.requests().at(0).body);
  EXPECT_EQ(body["response_format"]["type"], "json_schema");
  EXPECT_EQ(body["response_format"]["json_schema"]["schema"]["required"].size(), 3u) << body.dump();
  EXPECT_EQ(body["temperature"], 0.0);
}

TEST(HttpJudge, MalformedJsonIsRetriedOnceWithAReminderThenAnItemError) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/chat/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      const std::string asked = user_text(req.body);
      // Item 1: malformed, then valid after the reminder. Item 2: malformed every time.
      if (asked.find("Answer number 1") != std::string::npos &&
          asked.find("previous reply was not a valid JSON") != std::string::npos)
        chat_reply(res, kGoodToxigen);
      else
        chat_reply(res, R"({"kindness": 4, "awareness": )");
    });
  });
  auto model = http_judge(server);
  Judge judge(*model);
  auto fixed = judge.judge(Context::background(), *find_rubric("toxigen"), item("1"));
  ASSERT_TRUE(fixed.scores) << fixed.error;
  EXPECT_EQ(fixed.attempts, 2);
  auto broken = judge.judge(Context::background(), *find_rubric("toxigen"), item("2"));
  EXPECT_FALSE(broken.scores);
  EXPECT_EQ(broken.attempts, 2);
  EXPECT_NE(broken.error.find("invalid judge reply"), std::string::npos) << broken.error;
  EXPECT_EQ(server.count("/v1/chat/completions"), 4u);
}

TEST(HttpJudge, ServerErrorsAreRetriedThenRecordedPerItemAndTheRunGoesOn) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/chat/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      if (user_text(req.body).find("Answer number 2") != std::string::npos) {
        res.status = 503;
        res.set_content(R"({"error":{"message":"judge overloaded"}})", "application/json");
        return;
      }
      chat_reply(res, kGoodToxigen);
    });
  });
  // One endpoint: its 503s must not take it out of service for the other items.
  auto model = http_judge(server, {{"retries", "2"}, {"failure_threshold", "1000"}});
  ResponseSet set;
  for (int i = 1; i <= 4; ++i) set.items.push_back(item(std::to_string(i)));
  ScoreConfig config;
  config.suites = {"toxigen"};
  config.judge = model.get();
  config.judge_name = server.url();
  config.concurrency = 2;
  auto out = run_score(Context::background(), set, config, {});
  ASSERT_EQ(out.items.size(), 4u);
  ASSERT_TRUE(out.items[1].contains("toxigen_error")) << out.items[1].dump();
  const std::string error = out.items[1]["toxigen_error"];
  EXPECT_NE(error.find("503"), std::string::npos) << error;
  EXPECT_NE(error.find("judge overloaded"), std::string::npos) << error;
  for (size_t i : {0u, 2u, 3u}) EXPECT_FALSE(out.items[i].contains("toxigen_error")) << i;
  EXPECT_DOUBLE_EQ(out.summary["model_averages"]["m"]["toxigen.kindness"].get<double>(), 4.0);
  // Item 2: two judge calls (the judge's own retry), each tried twice by the backend.
  size_t item2 = 0;
  for (const auto& r : server.requests())
    item2 += user_text(r.body).find("Answer number 2") != std::string::npos;
  EXPECT_EQ(item2, 4u);
}

TEST(HttpJudge, AHangingServerIsAnItemErrorNotAHang) {
  ScriptedServer server([](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/chat/completions", [&self](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      // The head of a stream, then silence far longer than the client's read timeout.
      ScriptedServer::stream(
          res, {"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n", ""},
          milliseconds(30000), -1, &self);
    });
  });
  auto model = http_judge(server, {{"timeout_ms", "300"}, {"retries", "1"}});
  Judge judge(*model);
  auto out = judge.judge(Context::background(), *find_rubric("toxigen"), item("1"));
  EXPECT_FALSE(out.scores);
  EXPECT_NE(out.error.find("timed out"), std::string::npos) << out.error;
}

TEST(HttpJudge, ConcurrencyBoundNeverExceededAtTheServer) {
  std::atomic<int> in_flight{0}, most{0};
  ScriptedServer server([&](httplib::Server& s, ScriptedServer& self) {
    s.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
      self.record(req);
      const int now = ++in_flight;
      for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
      }
      std::this_thread::sleep_for(milliseconds(20));  // slow replies overlap
      --in_flight;
      chat_reply(res, kGoodToxigen);
    });
  });
  auto model = http_judge(server);
  ResponseSet set;
  for (int i = 0; i < 16; ++i) set.items.push_back(item(std::to_string(i)));
  ScoreConfig config;
  config.suites = {"toxigen"};
  config.judge = model.get();
  config.concurrency = 3;
  auto out = run_score(Context::background(), set, config, {});
  EXPECT_EQ(out.items.size(), 16u);
  EXPECT_EQ(server.count("/v1/chat/completions"), 16u);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 1);
}

// The same model judging through `infer serve` and the http backend, and in process: the
// verdicts (scores, or the error and the number of calls) are the same item by item.
TEST(HttpJudge, ThroughInferServeEqualsTheNativeJudge) {
  const auto model_path = test::testdata_dir() / "models/e2e/e2e-spm-mistral-Q4_K_M.gguf";
  if (!std::filesystem::exists(model_path)) GTEST_SKIP() << "shared test data not found";
  llama_server::SupervisorOptions o;
  o.executable = INFER_EXE;
  o.args = {"serve", model_path.string(), "-t", "1", "-c", "1024", "--parallel", "2"};
  o.startup_timeout = std::chrono::seconds(60);
  llama_server::ServerSupervisor serve(o);
  serve.start_now(Context::background());
  const std::string url = serve.acquire(Context::background()).url.to_string() + "/v1";

  auto remote = load_model(url, {.backend = "http", .options = {{"health_interval_ms", "0"}}});
  auto local = load_model(
      model_path, {.backend = "native", .context_length = 1024, .parallel_slots = 2, .threads = 1});
  JudgeOptions options;
  options.max_tokens = 24;
  Judge over_http(*remote, options), in_process(*local, options);
  for (const char* id : {"1", "2", "3"}) {
    auto a = over_http.judge(Context::background(), *find_rubric("toxigen"), item(id));
    auto b = in_process.judge(Context::background(), *find_rubric("toxigen"), item(id));
    EXPECT_EQ(a.scores.has_value(), b.scores.has_value()) << id << ": " << a.error;
    if (a.scores && b.scores) {
      EXPECT_EQ(*a.scores, *b.scores) << id;
    }
    EXPECT_EQ(a.error, b.error) << id;
    EXPECT_EQ(a.attempts, b.attempts) << id;
  }
  EXPECT_TRUE(over_http.constrained());  // infer serve takes the rubric's JSON Schema
  remote->close();
  serve.shutdown();
}

}  // namespace
}  // namespace inference::ml
