// The server tests' fixture: a Server on a free loopback port over the native backend and
// an e2e model, and small helpers to read its answers.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http_test_client.hpp"
#include "inference/backend.hpp"
#include "server/server.hpp"
#include "support/testdata.hpp"

namespace inference::server {

std::filesystem::path bpe_model();
std::filesystem::path spm_model();

#define REQUIRE_MODELS()                                                                \
  do {                                                                                  \
    if (!std::filesystem::exists(bpe_model()) || !std::filesystem::exists(spm_model())) \
      GTEST_SKIP() << "e2e models not found under " << test::testdata_dir();            \
  } while (0)

// A running server on a free loopback port, serving `path` with the native backend.
struct LiveServer {
  explicit LiveServer(const std::filesystem::path& path, ServerOptions o = {});
  ~LiveServer();

  std::unique_ptr<Server> server;
  std::shared_ptr<TextModel> model;
  int port = 0;
};

/// The model's own greedy continuation (what the server must return at temperature 0).
std::string greedy(TextModel& model, const std::string& prompt, int n);
/// The value of one un-labelled Prometheus sample of GET /metrics.
double metric(int port, const std::string& name);
/// The concatenated delta/text content of an OpenAI stream, per choice index.
std::map<int, std::string> stream_texts(const std::vector<test::SseEvent>& events, bool chat);

}  // namespace inference::server
