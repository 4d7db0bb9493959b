// infer bench-serve — load generator for any OpenAI-compatible server (ours, llama-server, vLLM,
// Ollama): N concurrent clients stream M completions and the report gives requests/s, time to
// first token and inter-token latency percentiles, and aggregate generated tok/s. The work is
// in src/loadgen; this file only maps flags to its configuration.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/command.hpp"
#include "inference/error.hpp"
#include "loadgen/serve_load.hpp"

namespace inference::cli {
namespace {

struct BenchServeOptions {
  loadgen::ServeLoadConfig load;
  std::string endpoint = "chat";
  std::string api_key_env;
  bool json = false;
  bool no_ignore_eos = false;
};

void run_bench_serve(const BenchServeOptions& o) {
  loadgen::ServeLoadConfig config = o.load;
  config.endpoint =
      o.endpoint == "completions" ? loadgen::Endpoint::completions : loadgen::Endpoint::chat;
  config.ignore_eos = !o.no_ignore_eos;
  if (!o.api_key_env.empty()) {
    // The key comes from the environment so it never shows in `ps` or shell history.
    const char* key = std::getenv(o.api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      throw ExitRequest{kUsage, "bench-serve: --api-key-env " + o.api_key_env +
                                    ": that environment variable is not set"};
    }
    config.api_key = key;
  }
  loadgen::ServeLoadReport report;
  try {
    report = loadgen::run_serve_load(config);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::invalid_argument) throw ExitRequest{kUsage, e.what()};
    throw;
  }
  if (o.json) {
    std::cout << loadgen::to_json(report).dump() << "\n";
  } else {
    std::cout << loadgen::to_text(report);
  }
  // Any failed request makes the run fail: a benchmark of a broken server is not a result.
  if (report.errors > 0) throw ExitRequest{kFailure, ""};
}

void setup_bench_serve(CLI::App& root) {
  auto* cmd =
      root.add_subcommand("bench-serve",
                          "Load-test an OpenAI-compatible server (requests/s, TTFT, inter-token "
                          "latency, aggregate tok/s)");
  auto o = std::make_shared<BenchServeOptions>();
  cmd->add_option("url", o->load.url, "Server address, e.g. http://127.0.0.1:8080")->required();
  cmd->add_option("-c,--concurrency", o->load.concurrency, "Clients streaming at once")
      ->capture_default_str();
  cmd->add_option("-n,--requests", o->load.requests, "Measured requests in all")
      ->capture_default_str();
  cmd->add_option("-p,--prompt-tokens", o->load.prompt_tokens,
                  "Prompt length in words (about one token each)")
      ->capture_default_str();
  cmd->add_option("-g,--max-tokens", o->load.max_tokens, "max_tokens of each request")
      ->capture_default_str();
  cmd->add_option("--warmup", o->load.warmup, "Unmeasured requests sent first, one at a time")
      ->capture_default_str();
  cmd->add_option("--model", o->load.model,
                  "Model name to send (default: the first of GET /v1/models)");
  cmd->add_option("--endpoint", o->endpoint, "chat (/v1/chat/completions) or completions")
      ->check(CLI::IsMember({"chat", "completions"}))
      ->capture_default_str();
  cmd->add_option("--api-key-env", o->api_key_env,
                  "Name of an environment variable holding the API key (sent as Bearer)");
  cmd->add_flag("--no-ignore-eos", o->no_ignore_eos,
                "Do not ask the server to ignore end-of-sequence (replies may be shorter)");
  cmd->add_option("--disconnect-fraction", o->load.disconnect_fraction,
                  "Share of requests that hang up after a random number of tokens (soak tests)")
      ->capture_default_str();
  cmd->add_option("--timeout", o->load.timeout_s, "Per-request read timeout, seconds")
      ->capture_default_str();
  cmd->add_option("--seed", o->load.seed, "Seed of the prompts and disconnect points")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object instead of the table");
  cmd->callback([o] { run_bench_serve(*o); });
}

const CommandRegistration kRegister{63, setup_bench_serve};

}  // namespace
}  // namespace inference::cli
