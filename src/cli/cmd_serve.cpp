// infer serve MODEL — the OpenAI/Anthropic/llama-server compatible HTTP server (src/server)
// over one model. Also takes llama-server's common flags (-m, --host, --port, -c, -np, -t,
// --api-key), so it can stand in for it. With --backend http it is a proxy in front of one
// OpenAI-compatible server or a pool of them (--url, repeatable). Prints "listening on URL" on
// stderr once the model is loaded; SIGINT/SIGTERM drain in-flight requests (bounded wait), then
// exit 0.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "formats/display.hpp"
#include "formats/memory_estimate.hpp"
#include "formats/model_summary.hpp"
#include "formats/parallel_slots.hpp"
#include "inference/backend.hpp"
#include "inference/error.hpp"
#include "server/server.hpp"
#include "web/web_assets.hpp"

namespace inference::cli {
namespace {

std::atomic<int> g_signal{0};

void on_signal(int sig) {
  g_signal.store(sig);
}

struct ServeOptions {
  std::string model;
  std::string model_flag;
  server::ServerOptions server;
  std::string backend;
  LoadFlags remote;  // --url, --remote-model, --api-key-env, --backend-opt
  int32_t ctx = 0;
  int32_t threads = 0;
  std::string kv_type;
  bool packed_weights = false;  // the native option packed_weights (docs/batching.md)
  double drain_seconds = 10.0;
  double max_body_mib = 8.0;
  std::string chat_template_file;
  int32_t parallel = 0;  ///< 0 = chosen from context and memory (formats/parallel_slots.hpp)
  std::vector<std::string> lora;  // PATH[:SCALE]
  bool lora_merge = false;
  bool lora_init_without_apply = false;
};

// -np when not given: as many slots as fit in 3/4 of MemAvailable at the slot's context, up to
// 8 (formats::choose_parallel_slots). A model the estimate cannot read (a directory without
// the shape, another backend's name) gets 4, as before.
int32_t default_parallel(const std::string& path, const ServeOptions& o) {
  try {
    const auto kv = formats::kv_cache_type_from_name(o.kv_type.empty() ? "f16" : o.kv_type);
    const formats::SlotChoice c = formats::choose_parallel_slots(
        formats::summarize_model(path), o.ctx, kv.value_or(formats::KvCacheType::f16),
        formats::available_memory_bytes(), o.threads);
    std::cerr << "-np not given: " << c.slots << " slots (" << c.context
              << " tokens each; estimated " << formats::format_bytes(c.total_bytes);
    if (c.budget_bytes > 0)
      std::cerr << " of a " << formats::format_bytes(c.budget_bytes) << " budget";
    std::cerr << ")" << std::endl;
    return c.slots;
  } catch (const Error& e) {
    std::cerr << "-np not given and the memory estimate failed (" << e.what() << "): 4 slots"
              << std::endl;
    return 4;
  }
}

void warn_if_exposed(const server::ServerOptions& o) {
  if (server::is_loopback_host(o.host) || !o.api_key.empty()) return;
  std::cerr << "\n"
            << "  WARNING: infer serve is listening on " << o.host << " WITHOUT an API key.\n"
            << "  Anyone who can reach this address can use the model. Pass --api-key KEY, or\n"
            << "  bind to 127.0.0.1 (the default) to serve this machine only.\n\n";
}

// The Jinja text of --chat-template-file ("" when not given).
std::string read_chat_template_file(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "--chat-template-file: cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty())
    throw Error(ErrorCode::invalid_argument, "--chat-template-file: " + path + " is empty");
  return text.str();
}

// A server runs one thread per connection and per slot; glibc gives each new thread its own
// malloc arena (up to 8 per core), and every arena keeps the freed memory of its bursts, so
// resident memory climbs with the number of threads that ever allocated rather than with the
// live heap (heaptrack over the soak: peak heap under 1 MB, no leak, RSS +23%). Two arenas hold
// the contention of 2-core-scale serving without that growth. And glibc raises its mmap
// threshold each time a mapped block is freed, after which blocks of that size (a response
// body, a request's logits copy) land in the arenas' heaps and fragment them; a fixed 64 KiB
// threshold keeps such transient blocks mapped, returned to the system when freed.
void configure_malloc() {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 64 * 1024);
#endif
}

// What the arenas still hold after bursts of requests is freed memory in the middle of their
// heaps, which glibc returns to the system only when asked (malloc_trim releases the unused
// pages of every arena). Asked every few seconds from the idle main thread, resident memory
// follows the live heap instead of the largest burst so far.
void return_free_heap_pages() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

void serve(ServeOptions& o) {
  configure_malloc();
  if (!o.model.empty() && !o.model_flag.empty() && o.model != o.model_flag)
    throw ExitRequest{kUsage, "give the model once: either MODEL or -m MODEL"};
  std::string path = o.model.empty() ? o.model_flag : o.model;
  std::vector<std::string> endpoints = o.remote.urls;
  if (path.empty() && !endpoints.empty()) {
    // A proxy needs no MODEL argument: the first --url is the pool's first endpoint.
    path = endpoints.front();
    endpoints.erase(endpoints.begin());
  }
  if (path.empty())
    throw ExitRequest{kUsage, "serve: a model is required (MODEL, -m MODEL, or --url URL)"};
  if (o.drain_seconds < 0) throw ExitRequest{kUsage, "--drain-timeout must be >= 0"};
  if (o.max_body_mib <= 0) throw ExitRequest{kUsage, "--max-body must be > 0"};
  std::vector<AdapterConfig> adapters;
  for (const auto& flag : o.lora) adapters.push_back(parse_adapter_flag(flag));
  if (o.lora_init_without_apply) {
    if (o.lora_merge)
      throw ExitRequest{kUsage, "--lora-init-without-apply cannot be used with --lora-merge"};
    for (auto& a : adapters) a.scale = 0.0f;  // off until POST /lora-adapters or a request's lora
  }
  o.server.model_path = path;
  o.server.drain_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(o.drain_seconds * 1000.0));
  o.server.max_body_bytes = static_cast<size_t>(o.max_body_mib * 1024.0 * 1024.0);
  // A remote model keeps the name its server gives it (set_model() falls back to info().name).
  const bool remote = path.find("://") != std::string::npos;
  if (o.server.model_id.empty() && !remote)
    o.server.model_id = std::filesystem::path(path).filename().string();
  LoadConfig load = o.remote.config();
  load.backend = o.backend.empty() && remote ? "http" : o.backend;
  load.endpoints = endpoints;
  load.context_length = o.ctx;
  o.server.parallel = o.parallel > 0 ? o.parallel : default_parallel(path, o);
  load.parallel_slots = o.server.parallel;
  load.threads = o.threads;
  load.kv_cache_type = o.kv_type;
  load.adapters = std::move(adapters);
  load.merge_adapters = o.lora_merge;
  o.server.index_html = std::string(web::chat_page());  // the chat page at GET / (web/)

  g_signal = 0;
  auto previous_int = std::signal(SIGINT, on_signal);
  auto previous_term = std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  server::Server srv(o.server);
  srv.bind();
  srv.start();
  warn_if_exposed(o.server);
  std::cerr << "loading " << path << " (" << o.server.parallel << " slots) ..." << std::endl;
  std::shared_ptr<TextModel> model;
  try {
    // The native backend's option (docs/backends.md).
    if (!o.chat_template_file.empty())
      load.options["chat_template"] = read_chat_template_file(o.chat_template_file);
    // A server keeps its slots' KV cache for its whole life: resident from the start, so its
    // memory does not climb while the slots first reach their longer positions.
    if (load.backend.empty() || load.backend == "native") {
      load.options.emplace("kv_prefault", "true");  // unless --backend-opt says
      if (o.packed_weights) load.options["packed_weights"] = "true";
    }
    model = load_model(path, load);
  } catch (...) {
    srv.shutdown();
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    throw;
  }
  const ModelInfo info = model->info();
  srv.set_model(model);
  std::cerr << "model " << (o.server.model_id.empty() ? info.name : o.server.model_id) << ": "
            << info.architecture << ", " << info.quantization << ", context " << info.context_length
            << ", backend " << info.backend << "\n";
  std::cerr << "listening on " << srv.url() << std::endl;

  auto last_trim = std::chrono::steady_clock::now();
  while (g_signal.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() - last_trim >= std::chrono::seconds(2)) {
      return_free_heap_pages();
      last_trim = std::chrono::steady_clock::now();
    }
  }
  const int first = g_signal.exchange(0);
  std::cerr << "infer serve: " << (first == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": finishing requests in flight (up to " << o.drain_seconds
            << " s; signal again to stop at once)" << std::endl;
  std::atomic<bool> stopped{false};
  bool drained = false;
  std::thread stopper([&] {
    drained = srv.shutdown();
    stopped = true;
  });
  while (!stopped.load()) {
    if (g_signal.load() != 0) {
      // A second Ctrl-C: the user does not want to wait for the drain.
      std::cerr << "infer serve: stopping now" << std::endl;
      std::_Exit(kInterrupted);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stopper.join();
  std::cerr << "infer serve: "
            << (drained ? "stopped" : "stopped (requests still running were cancelled)")
            << std::endl;
  model->close();
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
}

void setup_serve(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "serve", "Serve a model over HTTP: OpenAI, Anthropic and llama-server compatible APIs");
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("model", o->model,
                  "GGUF file or Safetensors model directory (http backend: base URL)");
  cmd->add_option("-m,--model", o->model_flag, "The model (llama-server style)");
  cmd->add_option("--host", o->server.host, "Address to listen on (loopback by default)")
      ->capture_default_str();
  cmd->add_option("--port", o->server.port, "Port (0 = any free port, printed)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--parallel", o->parallel,
                  "Concurrent generations (slots); also -np N. Default: as many as fit in 3/4 "
                  "of the free memory at the slot's context, up to 8")
      ->check(CLI::Range(1, 64));
  cmd->add_option("-c,--ctx", o->ctx, "Context length per slot (0 = model default, capped)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = one per physical core)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--backend", o->backend,
                  "Backend name (default: the best available); http: a proxy in front of the "
                  "server at MODEL (a base URL) and every --url");
  add_remote_flags(cmd, o->remote);
  cmd->add_option("--kv-type", o->kv_type,
                  "KV cache type: f16 (default), f32, q8_0 (half the KV bytes of f16)");
  cmd->add_flag("--packed-weights", o->packed_weights,
                "Native backend: keep the weights in the prompt GEMM's panel form and run every "
                "step through it (many concurrent streams: 8 streams 4-5x one; docs/batching.md)");
  cmd->add_option("--api-key", o->server.api_key,
                  "Require 'Authorization: Bearer KEY' (or x-api-key) on every endpoint but "
                  "/health");
  cmd->add_option("--lora", o->lora,
                  "LoRA adapter PATH[:SCALE] (repeatable; ids 0, 1, … in /lora-adapters, chosen "
                  "per request with `lora: [{id, scale}]`)");
  cmd->add_flag("--lora-merge", o->lora_merge,
                "Merge the adapters into the weights at load (faster; no per-request scales)");
  cmd->add_flag("--lora-init-without-apply", o->lora_init_without_apply,
                "Load the adapters with scale 0 (off until POST /lora-adapters or a request's "
                "lora)");
  cmd->add_option("--alias", o->server.model_id, "Model name in the API (default: file name)");
  cmd->add_option("--max-queue", o->server.max_queue,
                  "Requests that may wait for a slot (then 429)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--max-body", o->max_body_mib, "Largest request body in MiB (then 413)")
      ->capture_default_str();
  cmd->add_option("--chat-template-file", o->chat_template_file,
                  "Jinja chat template replacing the model's own (e.g. one that renders tools)");
  cmd->add_option("--drain-timeout", o->drain_seconds,
                  "Seconds in-flight requests may finish after SIGINT/SIGTERM")
      ->capture_default_str();
  cmd->callback([o] { serve(*o); });
}

const CommandRegistration kRegister{25, setup_serve};

}  // namespace
}  // namespace inference::cli
