// A loopback HTTP server answering with canned responses, for the remote backends' tests: it
// injects the faults a real server cannot be made to produce on demand (a reset mid-stream, a
// 500, a 429 with Retry-After, a hang) and records what each request carried.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace inference::test {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string authorization;
  std::chrono::steady_clock::time_point at;
};

class ScriptedServer {
 public:
  /// `setup` registers the handlers; the server then listens on a free 127.0.0.1 port.
  explicit ScriptedServer(const std::function<void(httplib::Server&, ScriptedServer&)>& setup);
  ~ScriptedServer();

  int port() const { return port_; }
  /// "http://127.0.0.1:PORT/v1"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<RecordedRequest> requests() const;
  size_t count(const std::string& path) const;
  /// Set when the server shuts down: hanging handlers poll it and return.
  bool stopping() const { return stopping_.load(); }
  void record(const httplib::Request& req);

  /// Streams `events` ("data: ...\n\n" each) with `pause` between them; with `reset_after` >= 0
  /// the connection is dropped after that many events.
  static void stream(httplib::Response& res, std::vector<std::string> events,
                     std::chrono::milliseconds pause = {}, int reset_after = -1,
                     const ScriptedServer* owner = nullptr);

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
};

/// One OpenAI completions chunk with `text` (and finish_reason when given).
std::string completion_chunk(const std::string& text, const std::string& finish = "");

}  // namespace inference::test
