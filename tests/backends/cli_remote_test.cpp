// The remote backends through the `infer` command line against a real `infer serve` on
// loopback: `infer logits --backend http` gives the native engine's next-token distribution,
// and `infer serve --backend http` proxies a pool that has a dead endpoint.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "backends/llama_server/server_supervisor.hpp"
#include "inference/backend.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

using nlohmann::json;

std::string model_path() {
  return (testdata_dir() / "models" / "e2e" / "e2e-bpe-gpt2-Q8_0.gguf").string();
}

struct Run {
  int status = -1;
  std::string out;
};

// Runs `infer ARGS` (single-quoted), stdout captured, stderr to the test log.
Run infer(const std::vector<std::string>& args) {
  std::string cmd = std::string("'") + INFER_BINARY + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  Run r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) r.out.append(buf, n);
  r.status = ::pclose(pipe);
  return r;
}

// `infer ARGS --host 127.0.0.1 --port FREE` until the test ends; url() is its /v1 base.
class Serve {
 public:
  explicit Serve(std::vector<std::string> args) {
    llama_server::SupervisorOptions o;
    o.executable = INFER_BINARY;
    o.args = std::move(args);
    o.startup_timeout = std::chrono::seconds(60);
    server_ = std::make_unique<llama_server::ServerSupervisor>(o);
    server_->start_now(Context::background());
    url_ = server_->acquire(Context::background()).url.to_string() + "/v1";
  }
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<llama_server::ServerSupervisor> server_;
  std::string url_;
};

TEST(RemoteCli, LogitsThroughTheHttpBackendMatchTheNativeEngine) {
  INFERENCE_REQUIRE_TESTDATA();
  Serve serve({"serve", model_path(), "-t", "1", "--kv-type", "f32"});
  const std::string prompt = "The capital of France is";
  auto native =
      infer({"logits", model_path(), "--prompt", prompt, "--top", "5", "--json", "-t", "1"});
  ASSERT_EQ(native.status, 0) << native.out;
  auto remote = infer(
      {"logits", serve.url(), "--backend", "http", "--prompt", prompt, "--top", "5", "--json"});
  ASSERT_EQ(remote.status, 0) << remote.out;
  const json a = json::parse(native.out);
  const json b = json::parse(remote.out);
  ASSERT_EQ(b["top"].size(), 5u) << remote.out;
  EXPECT_TRUE(b["pos"].is_null());
  // The argmax and its probability agree; the rest of the top-5 is the same set of pieces.
  EXPECT_EQ(a["top"][0]["text"], b["top"][0]["text"]);
  EXPECT_NEAR(a["top"][0]["logprob"].get<double>(), b["top"][0]["logprob"].get<double>(), 1e-3);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_NEAR(a["top"][i]["logprob"].get<double>(), b["top"][i]["logprob"].get<double>(), 1e-3)
        << i;
}

TEST(RemoteCli, LogitsNeedsTheNativeBackendForRowsAndIdsAndSaysSo) {
  auto tokens = infer({"logits", "http://127.0.0.1:1/v1", "--backend", "http", "--tokens", "1,2"});
  EXPECT_EQ(WEXITSTATUS(tokens.status), 2);
  auto all =
      infer({"logits", "http://127.0.0.1:1/v1", "--backend", "http", "--prompt", "Hi", "--all"});
  EXPECT_EQ(WEXITSTATUS(all.status), 2);
}

// The proxy in front of a pool whose first endpoint is dead: every request still succeeds,
// greedy text equal to the native engine's, and the dead endpoint is taken out of service.
TEST(RemoteCli, ServeProxiesAPoolWithADeadEndpoint) {
  INFERENCE_REQUIRE_TESTDATA();
  Serve inner({"serve", model_path(), "-t", "1"});
  Serve proxy({"serve", "--backend", "http", "--url", "http://127.0.0.1:1/v1", "--url", inner.url(),
               "--remote-model", "e2e-bpe-gpt2-Q8_0.gguf", "--backend-opt", "retry_base_ms=5",
               "--backend-opt", "failure_threshold=1"});
  auto native = load_model(model_path(), {.backend = "native", .threads = 1});
  auto through = load_model(proxy.url(), {.backend = "http"});
  EXPECT_EQ(through->info().name, "e2e-bpe-gpt2-Q8_0.gguf");  // the proxy names the served model
  for (const char* prompt : {"The capital of France is", "Once upon a time", "1, 2, 3,"}) {
    GenerateConfig greedy{.max_tokens = 8, .temperature = 0.0f, .ignore_eos = true};
    std::string want, got;
    auto a = native->generate(Context::background(), prompt, greedy);
    for (const Token& t : a) want += t.text;
    auto b = through->generate(Context::background(), prompt, greedy);
    for (const Token& t : b) got += t.text;
    ASSERT_TRUE(b.err().ok()) << b.err().to_string();
    EXPECT_EQ(got, want) << prompt;
  }
  through->close();
}

}  // namespace
}  // namespace inference::test
