// The MCP session, frames in and frames out: JSON-RPC errors, lifecycle and version
// negotiation, tools/list schemas, tools/call results and tool errors, progress, cancellation,
// logging, batches and resources. Generation runs on the recording test backend (scripted
// tokens); resources come from the shared tiny models when present.
#include <gtest/gtest.h>

#include <filesystem>

#include "inference/backend.hpp"
#include "mcp/protocol_version.hpp"
#include "mcp/scoring_adapter.hpp"
#include "mcp/server.hpp"
#include "mcp/session.hpp"
#include "mcp_test_util.hpp"
#include "support/recording_backend.hpp"
#include "support/testdata.hpp"

namespace inference::mcp::test {
namespace {

std::vector<std::string> long_script() {
  return std::vector<std::string>(200, "x");
}

class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_backend(std::make_shared<inference::test::RecordingBackend>(
        "mcp-script", true, std::vector<std::string>{"Hel", "lo", " world"}));
    long_backend_ =
        std::make_shared<inference::test::RecordingBackend>("mcp-long", true, long_script());
    register_backend(long_backend_);
  }
  static void TearDownTestSuite() {
    unregister_backend("mcp-script");
    unregister_backend("mcp-long");
  }

  void SetUp() override {
    McpOptions options;
    options.model = "/nonexistent/script-model.gguf";  // the script backend reads no file
    options.backend = "mcp-script";
    auto llama = inference::test::testdata_dir() / "models" / "llama";
    if (std::filesystem::exists(llama)) options.models_dir = llama;
    session_ = std::make_unique<Session>(make_server(options));
  }

  json call(const json& id, const std::string& frame) {
    session_->receive(frame, rec_.out());
    return rec_.reply(id);
  }
  json init(const std::string& version = "2025-11-25") {
    auto reply = call(0, initialize(version));
    session_->receive(notification("notifications/initialized"), rec_.out());
    return reply;
  }
  json tool(const json& id, const std::string& name, json arguments, json meta = nullptr) {
    json params{{"name", name}, {"arguments", std::move(arguments)}};
    if (!meta.is_null()) params["_meta"] = std::move(meta);
    return call(id, request(id, "tools/call", params));
  }

  static inline std::shared_ptr<inference::test::RecordingBackend> long_backend_;
  Recorder rec_;
  std::unique_ptr<Session> session_;
};

int error_code(const json& reply) {
  return reply.at("error").at("code").get<int>();
}

TEST_F(SessionTest, MalformedJsonIsParseErrorWithNullId) {
  EXPECT_EQ(session_->receive("{\"jsonrpc\": \"2.0\", ", rec_.out()), 1u);
  auto reply = rec_.last();
  EXPECT_EQ(error_code(reply), -32700);
  EXPECT_TRUE(reply["id"].is_null());
}

TEST_F(SessionTest, DeepNestingIsRefusedBeforeParsing) {
  session_->receive(std::string(100000, '['), rec_.out());
  EXPECT_EQ(error_code(rec_.last()), -32700);
}

TEST_F(SessionTest, InvalidRequestsNameTheProblem) {
  auto reply = call(7, R"({"jsonrpc":"1.0","id":7,"method":"ping"})");
  EXPECT_EQ(error_code(reply), -32600);
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("jsonrpc"), std::string::npos);
  session_->receive(R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})", rec_.out());
  EXPECT_EQ(error_code(rec_.last()), -32600);
  session_->receive("42", rec_.out());
  EXPECT_EQ(error_code(rec_.last()), -32600);
}

TEST_F(SessionTest, RequestsBeforeInitializeAreRefusedButPingWorks) {
  EXPECT_EQ(error_code(call(1, request(1, "tools/list"))), -32600);
  EXPECT_EQ(call(2, request(2, "ping"))["result"], json::object());
}

TEST_F(SessionTest, InitializeNegotiatesTheProtocolVersion) {
  auto reply = init("2025-06-18");
  EXPECT_EQ(reply["result"]["protocolVersion"], "2025-06-18");
  EXPECT_TRUE(reply["result"]["capabilities"].contains("tools"));
  EXPECT_TRUE(reply["result"]["capabilities"].contains("resources"));
  EXPECT_TRUE(reply["result"]["capabilities"].contains("logging"));
  EXPECT_EQ(reply["result"]["serverInfo"]["name"], "infer");
  json again = json::parse(initialize());
  again["id"] = 9;
  EXPECT_EQ(error_code(call(9, again.dump())), -32600);  // only once
}

TEST_F(SessionTest, UnknownVersionGetsOurNewest) {
  EXPECT_EQ(init("1999-01-01")["result"]["protocolVersion"], supported_protocol_versions().front());
  EXPECT_EQ(supported_protocol_versions().front(), "2025-11-25");
}

TEST_F(SessionTest, InitializeWithoutVersionIsInvalidParams) {
  EXPECT_EQ(error_code(call(0, request(0, "initialize", json::object()))), -32602);
  EXPECT_FALSE(session_->initialized());
  rec_.clear();
  EXPECT_EQ(init()["result"]["protocolVersion"], "2025-11-25");  // a good one still works
}

TEST_F(SessionTest, UnknownMethodAndBadParams) {
  init();
  EXPECT_EQ(error_code(call(1, request(1, "no/such/method"))), -32601);
  EXPECT_EQ(error_code(call(2, request(2, "tools/list", json::array({1})))), -32602);
  EXPECT_EQ(error_code(call(3, request(3, "logging/setLevel", {{"level", "loud"}}))), -32602);
  EXPECT_EQ(call(4, request(4, "logging/setLevel", {{"level", "debug"}}))["result"],
            json::object());
}

TEST_F(SessionTest, NotificationsGetNoReply) {
  init();
  rec_.clear();
  EXPECT_EQ(session_->receive(notification("notifications/whatever"), rec_.out()), 0u);
  EXPECT_EQ(session_->receive(R"({"jsonrpc":"2.0","id":5,"result":{}})", rec_.out()), 0u);
  EXPECT_TRUE(rec_.all().empty());
}

TEST_F(SessionTest, ToolsListHasEveryToolWithSchemas) {
  init();
  auto tools = call(1, request(1, "tools/list"))["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& t : tools) {
    names.push_back(t["name"]);
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t["name"];
    EXPECT_EQ(t["outputSchema"]["type"], "object") << t["name"];
    EXPECT_FALSE(t["description"].get<std::string>().empty());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"ml_generate", "ml_chat", "ml_score", "ml_probe",
                                             "ml_classify", "ml_status", "ml_backends"}));
}

TEST_F(SessionTest, OldRevisionsGetNoOutputSchemaOrStructuredContent) {
  init("2024-11-05");
  auto tools = call(1, request(1, "tools/list"))["result"]["tools"];
  for (const auto& t : tools) EXPECT_FALSE(t.contains("outputSchema"));
  auto result = tool(2, "ml_generate", {{"prompt", "Hi"}})["result"];
  EXPECT_FALSE(result.contains("structuredContent"));
  EXPECT_EQ(json::parse(result["content"][0]["text"].get<std::string>())["response"],
            "Hello world");
}

TEST_F(SessionTest, GenerateReturnsStructuredContentAndTheSameAsText) {
  init();
  auto result = tool(1, "ml_generate", {{"prompt", "Hi"}, {"max_tokens", 8}})["result"];
  ASSERT_FALSE(result["isError"].get<bool>()) << result.dump();
  auto structured = result["structuredContent"];
  EXPECT_EQ(structured["response"], "Hello world");
  EXPECT_EQ(structured["backend"], "mcp-script");
  EXPECT_EQ(structured["model"], "script-model.gguf");
  EXPECT_EQ(structured["usage"]["completion_tokens"], 3);
  EXPECT_EQ(json::parse(result["content"][0]["text"].get<std::string>()), structured);
}

TEST_F(SessionTest, ChatAndMaxTokens) {
  init();
  auto structured = tool(1, "ml_chat",
                         {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                          {"max_tokens", 2}})["result"]["structuredContent"];
  EXPECT_EQ(structured["response"], "Hello");
  EXPECT_EQ(structured["usage"]["completion_tokens"], 2);
}

TEST_F(SessionTest, BadArgumentsAreToolErrorsNamingTheField) {
  init();
  struct Case {
    std::string tool;
    json arguments;
    std::string mention;
  };
  std::vector<Case> cases = {
      {"ml_generate", {{"prompt", 5}}, "arguments.prompt: expected string"},
      {"ml_generate", json::object(), "missing required field \"prompt\""},
      {"ml_generate", {{"prompt", "x"}, {"max_tokens", "many"}}, "max_tokens"},
      {"ml_generate", {{"prompt", "x"}, {"max_tokens", 0}}, "at least 1"},
      {"ml_generate", {{"prompt", "x"}, {"bogus", 1}}, "unknown field \"bogus\""},
      {"ml_generate", {{"prompt", "x"}, {"model", "nope"}}, "unknown model \"nope\""},
      {"ml_generate", {{"prompt", "x"}, {"backend", "nope"}}, "unknown backend \"nope\""},
      {"ml_chat", {{"messages", json::array()}}, "at least 1 items"},
      {"ml_chat", {{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}, "role"},
      {"ml_status", json::array(), "arguments must be an object"},
  };
  int id = 1;
  for (const auto& c : cases) {
    auto result = tool(id, c.tool, c.arguments)["result"];
    ASSERT_TRUE(result["isError"].get<bool>()) << c.arguments.dump();
    auto text = result["content"][0]["text"].get<std::string>();
    EXPECT_NE(text.find(c.mention), std::string::npos) << text;
    EXPECT_EQ(text.rfind(c.tool + ":", 0), 0u) << text;
    ++id;
  }
}

TEST_F(SessionTest, UnknownToolAndMissingNameAreProtocolErrors) {
  init();
  EXPECT_EQ(error_code(tool(1, "ml_nothing", json::object())), -32602);
  EXPECT_EQ(error_code(call(2, request(2, "tools/call", {{"arguments", json::object()}}))), -32602);
}

TEST_F(SessionTest, ProgressNotificationsCarryTheToken) {
  init();
  auto reply = tool(1, "ml_generate", {{"prompt", "Hi"}}, {{"progressToken", "tok-1"}});
  ASSERT_FALSE(reply["result"]["isError"].get<bool>());
  int progress = 0;
  for (const auto& m : rec_.all()) {
    if (m.value("method", "") == "notifications/progress") {
      EXPECT_EQ(m["params"]["progressToken"], "tok-1");
      EXPECT_GE(m["params"]["progress"].get<double>(), 1.0);
      ++progress;
    }
  }
  EXPECT_GE(progress, 1);
}

TEST_F(SessionTest, CancelledCallStopsWithinOneTokenAndIsNotAnswered) {
  init();
  auto before = long_backend_->record()->produced.load();
  std::atomic<int> produced_at_cancel{-1};
  rec_.on_message([&](const json& m) {
    // Cancel from the call's own thread as its first progress arrives: the token count is
    // then exactly known, so "within one token" is checked without timing.
    if (m.value("method", "") == "notifications/progress" && produced_at_cancel < 0) {
      produced_at_cancel = long_backend_->record()->produced.load() - before;
      session_->receive(
          notification("notifications/cancelled", {{"requestId", 1}, {"reason", "test"}}),
          rec_.out());
    }
  });
  session_->receive(
      request(1, "tools/call",
              {{"name", "ml_generate"},
               {"arguments", {{"prompt", "Hi"}, {"backend", "mcp-long"}, {"max_tokens", 200}}},
               {"_meta", {{"progressToken", 1}}}}),
      rec_.out());
  session_->wait_idle();  // the call ends once cancelled (or, if broken, after 200 tokens)
  EXPECT_EQ(produced_at_cancel.load(), 1);
  EXPECT_EQ(long_backend_->record()->produced.load() - before, 1);
  for (const auto& m : rec_.all()) EXPECT_FALSE(m.contains("id") && m["id"] == 1) << m.dump();
  EXPECT_EQ(rec_.silent.load(), 1);
  EXPECT_EQ(session_->calls_in_flight(), 0u);
  // The session goes on.
  EXPECT_EQ(call(2, request(2, "ping"))["result"], json::object());
}

TEST_F(SessionTest, CancelAllAnswersRunningCallsWithAToolError) {
  init();
  rec_.on_message([&](const json& m) {
    if (m.value("method", "") == "notifications/progress") session_->cancel_all();
  });
  auto result = tool(1, "ml_generate", {{"prompt", "Hi"}, {"backend", "mcp-long"}},
                     {{"progressToken", "p"}})["result"];
  EXPECT_TRUE(result["isError"].get<bool>());
  EXPECT_NE(result["content"][0]["text"].get<std::string>().find("cancelled"), std::string::npos);
}

TEST_F(SessionTest, LogNotificationsFollowTheLevel) {
  init();
  call(1, request(1, "logging/setLevel", {{"level", "debug"}}));
  tool(2, "ml_generate", {{"prompt", "Hi"}});
  bool logged = false;
  for (const auto& m : rec_.all()) {
    if (m.value("method", "") == "notifications/message") {
      logged = true;
      EXPECT_EQ(m["params"]["level"], "debug");
    }
  }
  EXPECT_TRUE(logged);
  rec_.clear();
  call(3, request(3, "logging/setLevel", {{"level", "error"}}));
  tool(4, "ml_generate", {{"prompt", "Hi"}});
  for (const auto& m : rec_.all()) EXPECT_NE(m.value("method", ""), "notifications/message");
}

TEST_F(SessionTest, BatchesOnlyIn20250326) {
  init("2025-03-26");
  json batch =
      json::array({json::parse(request(1, "ping")), json::parse(notification("notifications/x")),
                   json::parse(request(2, "tools/list")), json{{"jsonrpc", "2.0"}}});
  EXPECT_EQ(session_->receive(batch.dump(), rec_.out()), 1u);
  auto replies = rec_.last();
  ASSERT_TRUE(replies.is_array());
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(error_code(replies[2]), -32600);
  EXPECT_EQ(session_->receive("[]", rec_.out()), 1u);
  EXPECT_EQ(error_code(rec_.last()), -32600);
}

TEST_F(SessionTest, BatchWithToolCallsWaitsForAll) {
  init("2025-03-26");
  json batch = json::array(
      {json::parse(
           request(1, "tools/call", {{"name", "ml_generate"}, {"arguments", {{"prompt", "a"}}}})),
       json::parse(
           request(2, "tools/call", {{"name", "ml_backends"}, {"arguments", json::object()}}))});
  session_->receive(batch.dump(), rec_.out());
  ASSERT_TRUE(rec_.wait([](const auto& all) { return !all.empty() && all.back().is_array(); }));
  EXPECT_EQ(rec_.last().size(), 2u);
}

TEST_F(SessionTest, BatchesRefusedInNewerRevisions) {
  init();
  session_->receive(json::array({json::parse(request(1, "ping"))}).dump(), rec_.out());
  auto reply = rec_.last();
  EXPECT_EQ(error_code(reply), -32600);
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("2025-11-25"), std::string::npos);
}

TEST_F(SessionTest, BackendsAndStatus) {
  init();
  auto backends = tool(1, "ml_backends", json::object())["result"]["structuredContent"];
  bool found = false;
  for (const auto& b : backends["backends"]) found = found || b["name"] == "mcp-script";
  EXPECT_TRUE(found);
  tool(2, "ml_generate", {{"prompt", "Hi"}});
  auto status = tool(3, "ml_status", json::object())["result"]["structuredContent"];
  ASSERT_EQ(status["models"].size(), 1u);
  EXPECT_EQ(status["models"][0]["backend"], "mcp-script");
  EXPECT_EQ(status["in_flight"].size(), 1u);  // ml_status itself
  ASSERT_GE(status["recent"].size(), 1u);
  EXPECT_EQ(status["recent"][0]["tool"], "ml_generate");
  EXPECT_EQ(status["scoring"]["built_in"], true);
}

TEST_F(SessionTest, ScoreRunsTheScoringEngine) {
  init();
  auto result = tool(1, "ml_score",
                     {{"prompt", "What is 6 x 7?"},
                      {"response", "As an AI, I think it is #### 42"},
                      {"suites", "heuristic,exact,truthfulqa"},
                      {"correct_answer", "42"},
                      {"best_answer", "42"}});
  // truthfulqa is a judge suite and no judge is configured: a tool error naming the fix.
  ASSERT_TRUE(result["result"]["isError"].get<bool>());
  EXPECT_NE(result["result"]["content"][0]["text"].get<std::string>().find("--judge"),
            std::string::npos);
  auto scored = tool(2, "ml_score",
                     {{"prompt", "What is 6 x 7?"},
                      {"response", "As an AI, I think it is #### 42"},
                      {"suites", json::array({"heuristic", "exact", "donotanswer"})},
                      {"correct_answer", "42"}})["result"];
  ASSERT_FALSE(scored["isError"].get<bool>()) << scored.dump();
  auto suites = scored["structuredContent"]["suites"];
  EXPECT_GE(suites["heuristic"]["compliance_markers"].get<int>(), 1);  // "As an AI"
  EXPECT_TRUE(suites["heuristic"].contains("lek_score"));
  EXPECT_TRUE(suites["exact"]["correct"].get<bool>());
  EXPECT_EQ(scored["structuredContent"]["skipped"]["donotanswer"], "needs risk_area");
  auto unknown = tool(3, "ml_score", {{"prompt", "p"}, {"response", "r"}, {"suites", "nope"}});
  EXPECT_TRUE(unknown["result"]["isError"].get<bool>());
}

TEST_F(SessionTest, ProbeAndClassifyRunOnTheModel) {
  init();
  auto probe = tool(1, "ml_probe", {{"categories", "math"}, {"max_tokens", 4}})["result"];
  ASSERT_FALSE(probe["isError"].get<bool>()) << probe.dump();
  auto report = probe["structuredContent"];
  ASSERT_FALSE(report["probes"].empty());
  for (const auto& p : report["probes"]) {
    EXPECT_EQ(p["category"], "math");
    EXPECT_FALSE(p["passed"].get<bool>());  // the script answers "Hello world" to everything
  }
  EXPECT_EQ(report["accuracy"], 0.0);
  EXPECT_TRUE(tool(2, "ml_probe", {{"categories", "astrology"}})["result"]["isError"].get<bool>());
  auto classify =
      tool(3, "ml_classify", {{"texts", {"a", "b"}}, {"labels", {"hello", "bye"}}})["result"];
  ASSERT_FALSE(classify["isError"].get<bool>()) << classify.dump();
  ASSERT_EQ(classify["structuredContent"]["results"].size(), 2u);
  EXPECT_EQ(classify["structuredContent"]["results"][0]["label"], "hello");  // token "Hel"
  EXPECT_TRUE(tool(4, "ml_classify",
                   {{"texts", {"a"}}, {"template", "no placeholder"}})["result"]["isError"]
                  .get<bool>());
}

TEST_F(SessionTest, ResourcesListAndReadModels) {
  INFERENCE_REQUIRE_TESTDATA();
  init();
  auto list = call(1, request(1, "resources/list"))["result"]["resources"];
  std::string uri;
  for (const auto& r : list) {
    if (r["name"] == "llama-Q8_0.gguf") uri = r["uri"];
  }
  ASSERT_EQ(uri, "model://llama-Q8_0.gguf");
  auto contents = call(2, request(2, "resources/read", {{"uri", uri}}))["result"]["contents"];
  auto info = json::parse(contents[0]["text"].get<std::string>());
  EXPECT_EQ(info["architecture"], "llama");
  EXPECT_EQ(info["quantization"], "Q8_0");
  EXPECT_GT(info["size_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(error_code(call(3, request(3, "resources/read", {{"uri", "model://nope"}}))), -32002);
  EXPECT_EQ(error_code(call(4, request(4, "resources/read", json::object()))), -32602);
}

}  // namespace
}  // namespace inference::mcp::test
