// infer mcp — serves the model and the scoring engine as MCP tools over stdio or Streamable
// HTTP. Thin: src/mcp does the work.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "inference/error.hpp"
#include "mcp/http_transport.hpp"
#include "mcp/server.hpp"
#include "mcp/stdio_transport.hpp"

namespace inference::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_stop_signal(int) {
  g_stop.store(true);
}

struct McpFlags {
  std::string model;
  LoadFlags load;
  std::string judge;
  std::string transport = "stdio";
  std::string host = "127.0.0.1";
  int port = 8765;
  std::string auth_token_env;
  std::vector<std::string> allow_origins;
  std::string models_dir;
  std::string runs_dir;
  int max_tokens_limit = 4096;
};

void serve_http(std::shared_ptr<const mcp::ServerDefinition> server, const McpFlags& flags) {
  mcp::HttpOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.allowed_origins = flags.allow_origins;
  if (!flags.auth_token_env.empty()) {
    const char* token = std::getenv(flags.auth_token_env.c_str());
    if (!token || !*token) {
      throw ExitRequest{kUsage, "--auth-token-env " + flags.auth_token_env +
                                    ": the environment variable is unset or empty"};
    }
    options.bearer_token = token;
  }
  mcp::HttpServer http(std::move(server), options);
  http.bind();
  std::fprintf(stderr, "infer mcp: listening on http://%s:%d/mcp\n", flags.host.c_str(),
               http.port());
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  // A signal handler may only set a flag; this thread turns it into a stop.
  std::jthread watcher([&http](std::stop_token stop) {
    while (!stop.stop_requested() && !g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    http.stop();
  });
  http.run();
}

void setup_mcp(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "mcp", "Serve models and the scoring engine as MCP tools (stdio or Streamable HTTP)");
  auto flags = std::make_shared<McpFlags>();
  cmd->add_option("model", flags->model, "Default model (GGUF file or Safetensors directory)");
  add_load_flags(cmd, flags->load);
  cmd->add_option("--judge", flags->judge, "Judge model (path or URL) for ml_score judge suites");
  cmd->add_option("--transport", flags->transport, "stdio (default) or http")
      ->check(CLI::IsMember({"stdio", "http"}));
  cmd->add_option("--host", flags->host, "HTTP: address to bind (default 127.0.0.1)");
  cmd->add_option("--port", flags->port, "HTTP: port (default 8765; 0 = any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--auth-token-env", flags->auth_token_env,
                  "HTTP: environment variable holding the bearer token clients must send");
  cmd->add_option("--allow-origin", flags->allow_origins,
                  "HTTP: a browser Origin allowed besides loopback (repeatable)");
  cmd->add_option("--models-dir", flags->models_dir,
                  "Models the tools may use by id, listed as resources");
  cmd->add_option("--runs-dir", flags->runs_dir, "Scoring run directory reported by ml_status");
  cmd->add_option("--max-tokens-limit", flags->max_tokens_limit,
                  "Largest max_tokens a call may ask for")
      ->check(CLI::Range(1, 1 << 20));
  cmd->callback([flags] {
    mcp::McpOptions options;
    options.model = flags->model;
    options.backend = flags->load.backend;
    options.load = flags->load.config();
    options.models_dir = flags->models_dir;
    options.runs_dir = flags->runs_dir;
    options.judge = flags->judge;
    options.max_tokens_limit = flags->max_tokens_limit;
    if (!options.model.empty() && !std::filesystem::exists(options.model)) {
      throw Error(ErrorCode::not_found, "model not found: " + flags->model);
    }
    if (!options.models_dir.empty() && !std::filesystem::is_directory(options.models_dir)) {
      throw Error(ErrorCode::not_found, "--models-dir is not a directory: " + flags->models_dir);
    }
    std::signal(SIGPIPE, SIG_IGN);  // a client that went away is a write error, not a crash
    auto server = mcp::make_server(options);
    if (flags->transport == "http") {
      serve_http(std::move(server), *flags);
    } else {
      mcp::serve_stdio(std::move(server), stdin, stdout);
    }
  });
}

const CommandRegistration kRegister{70, setup_mcp};

}  // namespace
}  // namespace inference::cli
