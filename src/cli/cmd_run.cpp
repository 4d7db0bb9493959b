// infer run MODEL [PROMPT] — generates a continuation (or, with --chat, a reply) and streams it
// to stdout. Ctrl-C cancels the generation through its Context; the text so far stays printed.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "backends/native/token_prompt_model.hpp"
#include "cli/command.hpp"
#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "inference/error.hpp"
#include "inference/text_model.hpp"

namespace inference::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) {
  g_interrupted.store(true);
}

// Turns SIGINT into ctx.cancel(): a signal handler may not take locks, so a watcher thread
// polls the flag the handler sets. Cancellation is checked inside the engine, so it also stops
// a long prompt evaluation.
class InterruptCanceller {
 public:
  explicit InterruptCanceller(Context ctx)
      : ctx_(std::move(ctx)), watcher_([this](std::stop_token stop) { watch(stop); }) {
    previous_ = std::signal(SIGINT, on_interrupt);
  }
  ~InterruptCanceller() { std::signal(SIGINT, previous_); }
  bool interrupted() const { return fired_.load(); }

 private:
  void watch(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      if (g_interrupted.exchange(false)) {
        fired_ = true;
        ctx_.cancel();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  Context ctx_;
  std::atomic<bool> fired_{false};
  void (*previous_)(int) = SIG_DFL;
  std::jthread watcher_;
};

struct RunOptions {
  std::string model;
  std::string prompt;
  std::string tokens;
  std::string system;
  bool chat = false;
  bool json = false;
  std::string backend;
  int32_t ctx = 0;
  int32_t threads = 0;
  std::string kv_type;
  GenerateConfig gen;
};

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long value = 0;
    try {
      value = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value < 0 || value > INT32_MAX)
      throw ExitRequest{kUsage, "--tokens: '" + item + "' is not a token id (expected 1,2,3)"};
    ids.push_back(static_cast<int32_t>(value));
  }
  if (ids.empty()) throw ExitRequest{kUsage, "--tokens: no token ids given"};
  return ids;
}

nlohmann::json metrics_json(const GenerateMetrics& m) {
  return {{"prompt_tokens", m.prompt_tokens},
          {"generated_tokens", m.generated_tokens},
          {"prefill_ms", static_cast<double>(m.prefill_duration.count()) / 1e6},
          {"decode_ms", static_cast<double>(m.decode_duration.count()) / 1e6},
          {"prefill_tokens_per_second", m.prefill_tokens_per_second},
          {"decode_tokens_per_second", m.decode_tokens_per_second},
          {"peak_memory_bytes", m.peak_memory_bytes},
          {"active_memory_bytes", m.active_memory_bytes}};
}

void run(const RunOptions& o) {
  if (o.chat && !o.tokens.empty())
    throw ExitRequest{kUsage, "--chat and --tokens cannot be combined"};
  std::string prompt = o.prompt;
  std::vector<int32_t> ids;
  if (!o.tokens.empty()) {
    ids = parse_ids(o.tokens);
  } else if (prompt.empty()) {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }

  LoadConfig load{.backend = o.backend,
                  .context_length = o.ctx,
                  .threads = o.threads,
                  .kv_cache_type = o.kv_type};
  auto model = load_model(o.model, load);
  auto ctx = Context::background().with_cancel();
  InterruptCanceller canceller(ctx);

  TokenStream stream;
  if (!ids.empty()) {
    auto* direct = dynamic_cast<TokenPromptModel*>(model.get());
    if (!direct)
      throw Error(ErrorCode::unsupported, "backend '" + model->info().backend +
                                              "' cannot generate from token ids (--tokens)");
    stream = direct->generate_tokens(ctx, ids, o.gen);
  } else if (o.chat) {
    std::vector<Message> messages;
    if (!o.system.empty()) messages.push_back({"system", o.system});
    messages.push_back({"user", prompt});
    stream = model->chat(ctx, messages, o.gen);
  } else {
    stream = model->generate(ctx, prompt, o.gen);
  }

  std::vector<int32_t> out_ids;
  std::string text;
  for (const Token& t : stream) {
    if (t.id >= 0) out_ids.push_back(t.id);
    text += t.text;
    if (!o.json) std::cout << t.text << std::flush;
  }
  const Status status = stream.err();
  const GenerateMetrics metrics = model->metrics();
  if (o.json) {
    nlohmann::json out = {{"ids", out_ids},
                          {"text", text},
                          {"status", status.ok() ? "ok" : std::string(to_string(status.code))},
                          {"metrics", metrics_json(metrics)}};
    if (!status.ok()) out["error"] = status.message;
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (isatty(STDOUT_FILENO)) {
    std::cout << "\n";
  }
  if (global_options().verbose)
    std::cerr << "prompt: " << metrics.prompt_tokens << " tokens, "
              << metrics.prefill_tokens_per_second
              << " tok/s; generated: " << metrics.generated_tokens << " tokens, "
              << metrics.decode_tokens_per_second << " tok/s\n";
  if (status.code == ErrorCode::cancelled && canceller.interrupted())
    throw ExitRequest{kInterrupted, "interrupted"};
  if (!status.ok()) throw Error(status);
}

void setup_run(CLI::App& root) {
  auto* cmd = root.add_subcommand("run", "Generate text from a model, streamed to stdout");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("model", o->model, "GGUF file or Safetensors model directory")->required();
  cmd->add_option("prompt", o->prompt, "Prompt text (read from stdin when absent)");
  cmd->add_flag("--chat", o->chat, "Apply the model's chat template (prompt = user message)");
  cmd->add_option("--system", o->system, "System message (with --chat)");
  cmd->add_option("--tokens", o->tokens, "Feed these token ids instead of text: 1,2,3");
  cmd->add_flag("--json", o->json, "Print one JSON object: ids, text, status and metrics");
  cmd->add_option("--backend", o->backend, "Backend name (default: the best available)");
  cmd->add_option("-c,--ctx", o->ctx, "Context length (0 = model default, capped)");
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = one per physical core)");
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16 (default), f32, q8_0");
  auto& g = o->gen;
  cmd->add_option("-n,--max-tokens", g.max_tokens, "Tokens to generate at most (<= 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--temp", g.temperature, "Temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-k", g.top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--top-p", g.top_p, "Nucleus sampling mass (1 = off)");
  cmd->add_option("--min-p", g.min_p, "Drop tokens below min-p x the best (0 = off)");
  cmd->add_option("--repeat-penalty", g.repeat_penalty, "Repeat penalty (1 = off)");
  cmd->add_option("--repeat-last-n", g.repeat_last_n, "Tokens the repeat penalty looks back")
      ->capture_default_str();
  cmd->add_option("--presence-penalty", g.presence_penalty, "OpenAI presence penalty");
  cmd->add_option("--frequency-penalty", g.frequency_penalty, "OpenAI frequency penalty");
  cmd->add_option("--seed", g.seed, "Sampling seed");
  cmd->add_option("--stop", g.stop, "Stop string (repeatable; never printed)");
  cmd->add_flag("--ignore-eos", g.ignore_eos, "Keep generating past end-of-sequence tokens");
  cmd->callback([o] { run(*o); });
}

const CommandRegistration kRegister{20, setup_run};

}  // namespace
}  // namespace inference::cli
