#include "backends/conformance_legs.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "backends/llama_server/find_server_binary.hpp"
#include "backends/llama_server/server_supervisor.hpp"
#include "inference/backend.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

// Whether this build's `infer` has the serve command (the server lands separately).
bool infer_has_serve() {
  static const bool has = [] {
    std::string cmd = std::string("'") + INFER_BINARY + "' --help 2>&1";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) return false;
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
    ::pclose(pipe);
    return out.find("\n  serve ") != std::string::npos;
  }();
  return has;
}

// llama-server's command line in front of `infer serve`.
std::string wrapper_script() {
  static const std::string path = [] {
    auto p = make_temp_dir("conformance") / "llama-server";
    std::ofstream(p) << "#!/bin/sh\nexec '" << INFER_BINARY << "' serve \"$@\"\n";
    ::chmod(p.c_str(), 0755);
    return p.string();
  }();
  return path;
}

std::optional<std::string> real_llama_server() {
  // Our own wrapper does not count: only a binary the environment names.
  const char* env = std::getenv("INFERENCE_LLAMA_SERVER");
  if (env && std::string(env) == wrapper_script()) return std::nullopt;
  return llama_server::find_server_binary("", nullptr);
}

struct HttpServe {
  std::shared_ptr<llama_server::ServerSupervisor> server;
  std::string url;
};

// Starts `infer ARGS --host 127.0.0.1 --port FREE`, kept in `servers`; returns its /v1 URL.
std::string start_serve(std::vector<std::string> args, std::vector<HttpServe>& servers) {
  llama_server::SupervisorOptions o;
  o.executable = INFER_BINARY;
  o.args = std::move(args);
  o.startup_timeout = std::chrono::seconds(60);
  HttpServe serve;
  serve.server = std::make_shared<llama_server::ServerSupervisor>(o);
  serve.server->start_now(Context::background());
  serve.url = serve.server->acquire(Context::background()).url.to_string() + "/v1";
  servers.push_back(serve);
  return serve.url;
}

std::shared_ptr<TextModel> load(const ConformanceLeg& leg, const std::string& model_path,
                                int32_t context_length, std::vector<HttpServe>& servers) {
  LoadConfig c;
  c.threads = 1;
  c.context_length = context_length;
  if (leg.name == "native") {
    c.backend = "native";
    return load_model(model_path, c);
  }
  if (leg.name == "http") {
    std::vector<std::string> args = {"serve", model_path, "-t", "1"};
    if (context_length > 0) args.insert(args.end(), {"-c", std::to_string(context_length)});
    c.backend = "http";
    return load_model(start_serve(args, servers), c);
  }
  if (leg.name == "http_proxy") {
    // http → `infer serve --backend http` → a pool of a dead endpoint and `infer serve MODEL`:
    // the proxy must be invisible, and the dead endpoint must cost nothing but a retry.
    std::vector<std::string> args = {"serve", model_path, "-t", "1"};
    if (context_length > 0) args.insert(args.end(), {"-c", std::to_string(context_length)});
    const std::string inner = start_serve(args, servers);
    const std::string model_id = std::filesystem::path(model_path).filename().string();
    const std::string outer =
        start_serve({"serve", "--backend", "http", "--url", "http://127.0.0.1:1/v1", "--url", inner,
                     "--remote-model", model_id, "--backend-opt", "failure_threshold=1",
                     "--backend-opt", "retry_base_ms=5"},
                    servers);
    c.backend = "http";
    return load_model(outer, c);
  }
  c.backend = "llama_server";
  if (leg.name == "llama_server") {
    c.executable = wrapper_script();
  } else {
    c.executable = *real_llama_server();
  }
  return load_model(model_path, c);
}

}  // namespace

std::string leg_skip_reason(const ConformanceLeg& leg) {
  if (leg.name == "native") return {};
  if (leg.name == "llama_server_real")
    return real_llama_server() ? ""
                               : "no real llama-server on PATH or in INFERENCE_LLAMA_SERVER "
                                 "(llama.cpp is not a Debian package; CI has none)";
  if (!infer_has_serve())
    return "this build's infer has no `serve` command yet (the server is merged separately)";
  return {};
}

std::shared_ptr<TextModel> leg_model(const ConformanceLeg& leg, const std::string& model_path,
                                     int32_t context_length, bool fresh) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<TextModel>> cache;
  static std::vector<HttpServe> servers;
  std::lock_guard lock(mutex);
  if (fresh) return load(leg, model_path, context_length, servers);
  std::string key = leg.name + "|" + model_path + "|" + std::to_string(context_length);
  auto& slot = cache[key];
  if (!slot) slot = load(leg, model_path, context_length, servers);
  return slot;
}

}  // namespace inference::test
