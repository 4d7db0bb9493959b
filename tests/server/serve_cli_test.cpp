// The real `infer serve` binary: greedy output through the server equals `infer run` byte for
// byte (one stream and eight concurrent ones), llama-server's flags, the API key, SIGTERM
// draining the request in flight and exiting 0, and usage errors.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <thread>

#include "cli/run_infer.hpp"
#include "http_test_client.hpp"
#include "serve_process.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

std::string bpe_model() {
  return (testdata_dir() / "models" / "e2e" / "e2e-bpe-gpt2-Q8_0.gguf").string();
}
std::string spm_model() {
  return (testdata_dir() / "models" / "e2e" / "e2e-spm-mistral-Q4_K_M.gguf").string();
}

#define REQUIRE_MODELS()                                                                \
  do {                                                                                  \
    if (!std::filesystem::exists(bpe_model()) || !std::filesystem::exists(spm_model())) \
      GTEST_SKIP() << "e2e models not found under " << testdata_dir();                  \
  } while (0)

// The texts of eight concurrent /v1/completions requests `req`, half of them streamed.
std::vector<std::string> eight_concurrent_completions(int port, const json& req) {
  std::vector<std::string> texts(8);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < texts.size(); ++i)
    clients.emplace_back([&, i] {
      json streamed = req;
      streamed["stream"] = i % 2 == 1;
      const HttpReply r = post(port, "/v1/completions", streamed);
      if (!streamed["stream"].get<bool>()) {
        texts[i] = r.json_body()["choices"][0]["text"];
        return;
      }
      for (const auto& e : parse_sse(r.body))
        if (e.data != "[DONE]") texts[i] += e.json_data()["choices"][0]["text"].get<std::string>();
    });
  for (auto& c : clients) c.join();
  return texts;
}

TEST(ServeCli, GreedyCompletionEqualsInferRunAtOneAndEightStreams) {
  REQUIRE_MODELS();
  const std::string prompt = "The quick brown fox";
  const InferRun run =
      run_infer({"run", bpe_model(), prompt, "-n", "24", "--temp", "0", "-t", "1", "-c", "512"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_FALSE(run.out.empty());

  ServeProcess serve({bpe_model(), "-t", "1", "-c", "512", "-np", "8"});
  const int port = serve.wait_listening();
  ASSERT_GT(port, 0) << serve.stderr_text();
  const json req = {{"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}};
  EXPECT_EQ(post(port, "/v1/completions", req).json_body()["choices"][0]["text"], run.out);

  const std::vector<std::string> texts = eight_concurrent_completions(port, req);
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(texts[i], run.out) << "stream " << i;
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.stderr_text();
}

// The model's memory as /metrics reports it (infer_model_memory_bytes), -1 if absent.
double model_memory_bytes(int port) {
  const std::string text = get(port, "/metrics").body;
  const std::string key = "\ninfer_model_memory_bytes ";
  const size_t at = text.find(key);
  return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size()));
}

// --packed-weights: every row of a step through the panel GEMM (the panels show in the model's
// memory). The server's greedy output then equals `infer run` with the same option, for a lone
// stream and eight concurrent ones.
TEST(ServeCli, PackedWeightsGreedyEqualsInferRunWithThemAtOneAndEightStreams) {
  REQUIRE_MODELS();
  const std::string prompt = "Once upon a time";
  const InferRun run = run_infer({"run", spm_model(), prompt, "-n", "24", "--temp", "0", "-t", "1",
                                  "-c", "512", "--backend-opt", "packed_weights=true"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_FALSE(run.out.empty());

  double plain_memory = 0;
  {
    ServeProcess plain({spm_model(), "-t", "1", "-c", "512", "-np", "8"});
    const int port = plain.wait_listening();
    ASSERT_GT(port, 0) << plain.stderr_text();
    plain_memory = model_memory_bytes(port);
    EXPECT_EQ(plain.stop(SIGTERM), 0) << plain.stderr_text();
  }
  ServeProcess serve({spm_model(), "-t", "1", "-c", "512", "-np", "8", "--packed-weights"});
  const int port = serve.wait_listening();
  ASSERT_GT(port, 0) << serve.stderr_text();
  const double file_bytes = static_cast<double>(std::filesystem::file_size(spm_model()));
  ASSERT_GT(plain_memory, 0);
  EXPECT_GT(model_memory_bytes(port) - plain_memory, 0.5 * file_bytes);  // the panels
  const json req = {{"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}};
  EXPECT_EQ(post(port, "/v1/completions", req).json_body()["choices"][0]["text"], run.out);
  const std::vector<std::string> texts = eight_concurrent_completions(port, req);
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(texts[i], run.out) << "stream " << i;
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.stderr_text();
}

TEST(ServeCli, GreedyChatEqualsInferRunChat) {
  REQUIRE_MODELS();
  const InferRun run = run_infer({"run", spm_model(), "--chat", "Write a haiku about the sea.",
                                  "-n", "16", "--temp", "0", "-t", "1", "-c", "512"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ServeProcess serve({spm_model(), "-t", "1", "-c", "512"});
  const int port = serve.wait_listening();
  ASSERT_GT(port, 0) << serve.stderr_text();
  const json body =
      post(port, "/v1/chat/completions",
           json{{"messages", {{{"role", "user"}, {"content", "Write a haiku about the sea."}}}},
                {"max_tokens", 16},
                {"temperature", 0}})
          .json_body();
  EXPECT_EQ(body["choices"][0]["message"]["content"], run.out);
}

TEST(ServeCli, LlamaServerFlagsAliasAndApiKey) {
  REQUIRE_MODELS();
  ServeProcess serve({"-m", bpe_model(), "-np", "2", "-c", "256", "-t", "1", "--alias", "tiny",
                      "--api-key", "k1"});
  const int port = serve.wait_listening();
  ASSERT_GT(port, 0) << serve.stderr_text();
  EXPECT_EQ(get(port, "/health").status, 200);
  EXPECT_EQ(get(port, "/props").status, 401);
  const httplib::Headers auth = {{"Authorization", "Bearer k1"}};
  const json props = get(port, "/props", auth).json_body();
  EXPECT_EQ(props["total_slots"], 2);
  EXPECT_EQ(props["default_generation_settings"]["n_ctx"], 256);
  EXPECT_EQ(get(port, "/v1/models", auth).json_body()["data"][0]["id"], "tiny");
  EXPECT_EQ(serve.stop(SIGINT), 0) << serve.stderr_text();
}

TEST(ServeCli, SigtermDrainsTheRequestInFlightThenExitsZero) {
  REQUIRE_MODELS();
  ServeProcess serve({bpe_model(), "-t", "1", "-c", "512"});
  const int port = serve.wait_listening();
  ASSERT_GT(port, 0) << serve.stderr_text();
  std::atomic<int> chunks{0};
  std::string body;
  std::thread client([&] {
    body = post_streaming(
               port, "/v1/completions",
               json{{"prompt", "Hello"}, {"max_tokens", 80}, {"temperature", 0}, {"stream", true}},
               [&](const std::string&) {
                 ++chunks;
                 return true;
               })
               .body;
  });
  while (chunks.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.stderr_text();
  client.join();
  const auto events = parse_sse(body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back().data, "[DONE]");  // the stream ran to its end
  EXPECT_NE(serve.stderr_text().find("SIGTERM"), std::string::npos);
}

TEST(ServeCli, DefaultSlotCountComesFromContextAndMemory) {
  REQUIRE_MODELS();
  // No -np: the server says how many slots fit (formats/parallel_slots.hpp) and serves that
  // many. The micro model at 256 tokens a slot fits the cap of 8 in any machine's memory.
  ServeProcess serve({bpe_model(), "-t", "1", "-c", "256"});
  const int port = serve.wait_listening();
  ASSERT_GT(port, 0) << serve.stderr_text();
  const std::string err = serve.stderr_text();
  const auto at = err.find("-np not given: ");
  ASSERT_NE(at, std::string::npos) << err;
  const int slots = std::stoi(err.substr(at + 15));
  EXPECT_EQ(slots, 8) << err;
  EXPECT_NE(err.find("256 tokens each"), std::string::npos) << err;
  EXPECT_EQ(get(port, "/props").json_body()["total_slots"], slots);
  EXPECT_EQ(get(port, "/slots").json_body().size(), static_cast<size_t>(slots));
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.stderr_text();
}

TEST(ServeCli, UsageAndLoadErrors) {
  const InferRun none = run_infer({"serve", "--port", "0"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_NE(none.err.find("model"), std::string::npos) << none.err;
  const InferRun missing = run_infer({"serve", "/no/such/model.gguf", "--port", "0"});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("/no/such/model.gguf"), std::string::npos) << missing.err;
  const InferRun bad_np = run_infer({"serve", "x.gguf", "-np", "0"});
  EXPECT_EQ(bad_np.exit_code, 2) << bad_np.err;
}

}  // namespace
}  // namespace inference::test
