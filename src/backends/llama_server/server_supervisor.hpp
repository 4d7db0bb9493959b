// backends/llama_server/server_supervisor.hpp — keeps one llama-server child running for a
// model: starts it on a free loopback port, waits for /health, restarts it (bounded attempts
// with back-off) when a request finds it dead, and explains failures with the exit status and
// the last lines it printed. It is the EndpointSource of the model's requests.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backends/llama_server/child_process.hpp"
#include "backends/remote/endpoint_source.hpp"

namespace inference::llama_server {

struct SupervisorOptions {
  std::string executable;
  std::vector<std::string> args;  ///< everything but --host/--port
  std::chrono::milliseconds startup_timeout{120000};
  std::chrono::milliseconds grace{5000};  ///< SIGTERM → SIGKILL
  int32_t start_attempts = 3;             ///< per request that finds the server dead
  std::chrono::milliseconds restart_backoff{250};
};

class ServerSupervisor final : public remote::EndpointSource {
 public:
  explicit ServerSupervisor(SupervisorOptions options) : options_(std::move(options)) {}
  ~ServerSupervisor() override { shutdown(); }

  /// Starts the server once (no retry), so load_model fails at once with the reason. Throws.
  void start_now(const Context& ctx);
  /// Stops the server for good; later acquire() throws unavailable. Idempotent.
  void shutdown();
  /// The running child's pid (-1 if none): tests and diagnostics.
  pid_t pid();

  remote::EndpointLease acquire(const Context& ctx) override;
  void release(const remote::EndpointLease&, const std::optional<std::string>&) override {}
  Status explain(const remote::EndpointLease& lease, Status status) override;

 private:
  // Spawns and waits for /health; throws Error naming the exit status and output.
  void start_locked(const Context& ctx);

  SupervisorOptions options_;
  std::mutex mutex_;
  std::unique_ptr<ChildProcess> child_;
  net::BaseUrl url_;
  bool closed_ = false;
  int64_t generation_ = 0;  // which child a lease went to (lease.index)
};

}  // namespace inference::llama_server
