#include "live_server.hpp"

#include <gtest/gtest.h>

namespace inference::server {

using test::get;
using test::HttpReply;
using test::json;

std::filesystem::path bpe_model() {
  return test::testdata_dir() / "models" / "e2e" / "e2e-bpe-gpt2-Q8_0.gguf";
}
std::filesystem::path spm_model() {
  return test::testdata_dir() / "models" / "e2e" / "e2e-spm-mistral-Q4_K_M.gguf";
}

LiveServer::LiveServer(const std::filesystem::path& path, ServerOptions o) {
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

LiveServer::~LiveServer() {
  server->shutdown();
}

std::string greedy(TextModel& model, const std::string& prompt, int n) {
  std::string text;
  for (const Token& t : model.generate(Context::background(), prompt, {.max_tokens = n}))
    text += t.text;
  return text;
}

double metric(int port, const std::string& name) {
  const HttpReply r = get(port, "/metrics");
  const auto at = r.body.find("\n" + name + " ");
  if (at == std::string::npos) {
    ADD_FAILURE() << name << " not in /metrics";
    return -1;
  }
  return std::stod(r.body.substr(at + name.size() + 2));
}

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
}  // namespace inference::server
