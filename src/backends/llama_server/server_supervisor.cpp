#include "backends/llama_server/server_supervisor.hpp"

#include "inference/log.hpp"

namespace inference::llama_server {
namespace {

std::string with_output(std::string message, const std::string& tail) {
  if (!tail.empty()) message += "; its last output:\n" + tail;
  return message;
}

}  // namespace

void ServerSupervisor::start_now(const Context& ctx) {
  std::lock_guard lock(mutex_);
  start_locked(ctx);
}

void ServerSupervisor::shutdown() {
  std::unique_ptr<ChildProcess> child;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    child = std::move(child_);
  }
  if (child) child->stop(options_.grace);
}

pid_t ServerSupervisor::pid() {
  std::lock_guard lock(mutex_);
  return child_ && child_->running() ? child_->pid() : -1;
}

void ServerSupervisor::start_locked(const Context& ctx) {
  if (child_) {
    child_->stop(options_.grace);
    child_.reset();
  }
  int port = pick_free_port();
  std::vector<std::string> args = options_.args;
  args.insert(args.end(), {"--host", "127.0.0.1", "--port", std::to_string(port)});
  auto child = std::make_unique<ChildProcess>(options_.executable, args);
  net::BaseUrl url{"http", "127.0.0.1", port, ""};
  const auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
  auto delay = std::chrono::milliseconds(20);
  for (;;) {
    if (!child->running()) {
      std::string message = "llama-server (" + options_.executable + ") " + child->describe_exit() +
                            " during startup";
      throw Error(ErrorCode::backend, with_output(message, child->output_tail()));
    }
    net::HttpRequest health;
    health.method = "GET";
    health.path = "/health";
    auto r = net::send_http(ctx, url, health,
                            {std::chrono::milliseconds(1000), std::chrono::milliseconds(2000)},
                            [](std::string_view) { return true; });
    if (r.error == net::TransportError::none && r.status == 200) break;
    if (ctx.cancelled()) {
      child->stop(options_.grace);
      throw Error(ctx.status());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      child->stop(options_.grace);
      throw Error(ErrorCode::backend,
                  with_output("llama-server (" + options_.executable +
                                  ") did not become healthy "
                                  "within " +
                                  std::to_string(options_.startup_timeout.count()) + " ms",
                              child->output_tail()));
    }
    ctx.sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(200));  // 503 while loading: poll
  }
  child_ = std::move(child);
  url_ = url;
  ++generation_;
  log(LogLevel::info, "llama_server: started " + options_.executable + " (pid " +
                          std::to_string(child_->pid()) + ") on " + url_.to_string());
}

remote::EndpointLease ServerSupervisor::acquire(const Context& ctx) {
  std::lock_guard lock(mutex_);
  if (closed_) throw Error(ErrorCode::unavailable, "the model was closed");
  if (child_ && child_->running()) return {static_cast<size_t>(generation_), url_};
  std::string previous = child_ ? "the server " + child_->describe_exit() : "";
  Status last;
  for (int32_t attempt = 1; attempt <= options_.start_attempts; ++attempt) {
    try {
      if (!previous.empty())
        log(LogLevel::warning,
            "llama_server: " + previous + "; restarting (attempt " + std::to_string(attempt) + ")");
      start_locked(ctx);
      return {static_cast<size_t>(generation_), url_};
    } catch (const Error& e) {
      last = e.status();
      if (ctx.cancelled()) throw Error(ctx.status());
    }
    if (attempt < options_.start_attempts && !ctx.sleep_for(options_.restart_backoff * attempt))
      throw Error(ctx.status());
  }
  throw Error(ErrorCode::unavailable, "llama-server could not be restarted after " +
                                          std::to_string(options_.start_attempts) +
                                          " attempts: " + last.message);
}

Status ServerSupervisor::explain(const remote::EndpointLease& lease, Status status) {
  std::lock_guard lock(mutex_);
  if (!child_ || static_cast<int64_t>(lease.index) != generation_) return status;
  // A reset connection reaches us a moment before the exit can be reaped.
  if (!child_->wait_exit(std::chrono::milliseconds(500))) return status;
  status.message = with_output(status.message + ": llama-server (pid " +
                                   std::to_string(child_->pid()) + ") " + child_->describe_exit(),
                               child_->output_tail());
  return status;
}

}  // namespace inference::llama_server
