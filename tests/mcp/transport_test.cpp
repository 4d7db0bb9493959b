// The transports: stdio framing on real streams, and Streamable HTTP on a loopback port with
// a real HTTP client (sessions, SSE replies with progress, origin and bearer checks, DELETE).
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <thread>

#include "inference/backend.hpp"
#include "inference/error.hpp"
#include "mcp/http_transport.hpp"
#include "mcp/server.hpp"
#include "mcp/stdio_transport.hpp"
#include "mcp_test_util.hpp"
#include "support/recording_backend.hpp"

namespace inference::mcp::test {
namespace {

std::shared_ptr<const ServerDefinition> script_server() {
  static const bool registered = [] {
    register_backend(std::make_shared<inference::test::RecordingBackend>(
        "mcp-transport", true, std::vector<std::string>{"a", "b", "c"}));
    return true;
  }();
  (void)registered;
  McpOptions options;
  options.model = "/nonexistent/script.gguf";
  options.backend = "mcp-transport";
  return make_server(options);
}

std::vector<json> lines_of(std::FILE* file) {
  std::rewind(file);
  std::vector<json> out;
  std::string line;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) {
    if (c != '\n') {
      line.push_back(static_cast<char>(c));
      continue;
    }
    out.push_back(json::parse(line));  // every line must be one JSON message
    line.clear();
  }
  EXPECT_TRUE(line.empty()) << "unterminated output line: " << line;
  return out;
}

TEST(StdioTransport, OneJsonLinePerReplyAndNothingElse) {
  std::FILE* in = std::tmpfile();
  std::FILE* out = std::tmpfile();
  ASSERT_TRUE(in && out);
  std::string input = initialize() + "\n" + notification("notifications/initialized") + "\r\n" +
                      "\n   \n" + request(1, "tools/list") + "\n" + "{not json\n" +
                      request(2, "ping") + "\n" + std::string(kMaxFrameBytes + 10, ' ') + "x\n" +
                      request(3, "ping");  // last line without a newline
  std::fwrite(input.data(), 1, input.size(), in);
  std::rewind(in);
  serve_stdio(script_server(), in, out);
  auto messages = lines_of(out);
  ASSERT_EQ(messages.size(), 6u);
  EXPECT_EQ(messages[0]["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(messages[1]["result"]["tools"].size(), 7u);
  EXPECT_EQ(messages[2]["error"]["code"], -32700);
  EXPECT_EQ(messages[3]["id"], 2);
  EXPECT_EQ(messages[4]["error"]["code"], -32700);  // the oversized line
  EXPECT_EQ(messages[5]["id"], 3);
  std::fclose(in);
  std::fclose(out);
}

TEST(HttpTransport, RefusesNonLoopbackWithoutToken) {
  HttpOptions options;
  options.host = "0.0.0.0";
  EXPECT_THROW(HttpServer(script_server(), options), Error);
  options.bearer_token = "secret";
  EXPECT_NO_THROW(HttpServer(script_server(), options));
}

TEST(HttpTransport, OriginRules) {
  EXPECT_TRUE(origin_allowed("", {}));
  EXPECT_TRUE(origin_allowed("http://localhost:3000", {}));
  EXPECT_TRUE(origin_allowed("http://127.0.0.1", {}));
  EXPECT_TRUE(origin_allowed("https://[::1]:8443", {}));
  EXPECT_FALSE(origin_allowed("http://evil.example", {}));
  EXPECT_FALSE(origin_allowed("http://localhost.evil.example", {}));
  EXPECT_FALSE(origin_allowed("null", {}));
  EXPECT_TRUE(origin_allowed("https://app.example", {"https://app.example"}));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("192.168.1.2"));
}

class HttpTest : public ::testing::Test {
 protected:
  void start(HttpOptions options = {}) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(script_server(), options);
    server_->bind();
    thread_ = std::thread([this] { server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(20, 0);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Result post(const std::string& body, httplib::Headers headers = {}) {
    headers.emplace("Accept", "application/json, text/event-stream");
    return client_->Post("/mcp", headers, body, "application/json");
  }
  std::string open_session(httplib::Headers headers = {}) {
    auto res = post(initialize(), headers);
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(json::parse(res->body)["result"]["protocolVersion"], "2025-11-25");
    return res->get_header_value("Mcp-Session-Id");
  }

  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpTest, SessionLifecycle) {
  start();
  std::string id = open_session();
  ASSERT_EQ(id.size(), 32u);
  httplib::Headers session{{"Mcp-Session-Id", id}, {"MCP-Protocol-Version", "2025-11-25"}};
  EXPECT_EQ(post(notification("notifications/initialized"), session)->status, 202);
  auto list = post(request(1, "tools/list"), session);
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body)["result"]["tools"].size(), 7u);

  EXPECT_EQ(post(request(2, "tools/list"))->status, 400);  // no session header
  EXPECT_EQ(post(request(2, "tools/list"), {{"Mcp-Session-Id", "nope"}})->status, 404);
  EXPECT_EQ(
      post(request(2, "tools/list"), {{"Mcp-Session-Id", id}, {"MCP-Protocol-Version", "1999"}})
          ->status,
      400);
  EXPECT_EQ(post("{oops", session)->status, 200);  // a JSON-RPC parse error, answered
  EXPECT_EQ(client_->Post("/mcp", session, request(3, "ping"), "text/plain")->status, 415);

  EXPECT_EQ(client_->Delete("/mcp", session)->status, 200);
  EXPECT_EQ(post(request(4, "ping"), session)->status, 404);
}

TEST_F(HttpTest, ToolCallStreamsProgressThenTheReply) {
  start();
  httplib::Headers session{{"Mcp-Session-Id", open_session()}};
  auto res = post(request(5, "tools/call",
                          {{"name", "ml_generate"},
                           {"arguments", {{"prompt", "x"}}},
                           {"_meta", {{"progressToken", "p5"}}}}),
                  session);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  std::vector<json> events;
  std::size_t pos = 0;
  while ((pos = res->body.find("data: ", pos)) != std::string::npos) {
    auto end = res->body.find('\n', pos);
    events.push_back(json::parse(res->body.substr(pos + 6, end - pos - 6)));
    pos = end;
  }
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front()["method"], "notifications/progress");
  EXPECT_EQ(events.back()["id"], 5);
  EXPECT_EQ(events.back()["result"]["structuredContent"]["response"], "abc");
}

TEST_F(HttpTest, JsonOnlyClientsGetJson) {
  start();
  httplib::Headers headers{{"Mcp-Session-Id", open_session()}, {"Accept", "application/json"}};
  auto res = client_->Post(
      "/mcp", headers,
      request(6, "tools/call", {{"name", "ml_generate"}, {"arguments", {{"prompt", "x"}}}}),
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["result"]["structuredContent"]["response"], "abc");
}

TEST_F(HttpTest, ForeignOriginIsForbidden) {
  start();
  auto res = post(initialize(), {{"Origin", "http://evil.example"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(post(initialize(), {{"Origin", "http://localhost:5173"}})->status, 200);
}

TEST_F(HttpTest, BearerTokenIsRequiredWhenSet) {
  HttpOptions options;
  options.bearer_token = "s3cret";
  start(options);
  auto res = post(initialize());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(post(initialize(), {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_FALSE(open_session({{"Authorization", "Bearer s3cret"}}).empty());
}

TEST_F(HttpTest, IdleSessionsMakeRoomAtTheLimit) {
  HttpOptions options;
  options.max_sessions = 2;
  start(options);
  std::string first = open_session();
  std::string second = open_session();
  EXPECT_EQ(post(request(1, "ping"), {{"Mcp-Session-Id", first}})->status,
            200);  // first is fresher now
  std::string third = open_session();
  ASSERT_FALSE(third.empty());
  EXPECT_EQ(post(request(2, "ping"), {{"Mcp-Session-Id", second}})->status, 404);
  EXPECT_EQ(post(request(3, "ping"), {{"Mcp-Session-Id", first}})->status, 200);
  EXPECT_EQ(post(request(4, "ping"), {{"Mcp-Session-Id", third}})->status, 200);
}

TEST_F(HttpTest, GetStreamEndsWithTheSession) {
  start();
  std::string id = open_session();
  httplib::Client other("127.0.0.1", server_->port());
  int delete_status = 0;
  // Once the stream's headers are in, end the session from another connection: the open
  // stream must then finish instead of hanging.
  auto res = client_->Get(
      "/mcp", {{"Mcp-Session-Id", id}, {"Accept", "text/event-stream"}},
      [&](const httplib::Response& response) {
        EXPECT_EQ(response.status, 200);
        auto deleted = other.Delete("/mcp", {{"Mcp-Session-Id", id}});
        delete_status = deleted ? deleted->status : -1;
        return true;
      },
      [](const char*, std::size_t) { return true; });
  ASSERT_TRUE(res);
  EXPECT_EQ(delete_status, 200);
  EXPECT_EQ(client_->Get("/mcp", {{"Mcp-Session-Id", id}, {"Accept", "text/event-stream"}})->status,
            404);
}

}  // namespace
}  // namespace inference::mcp::test
