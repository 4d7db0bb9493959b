// infer chat MODEL — an interactive multi-turn conversation on stdin/stdout. Each turn sends
// the whole conversation; the native backend reuses the KV cache of the previous turns (the
// rendered prompt extends the cached one), so only the new text is evaluated. Commands: /exit,
// /reset. Ctrl-C stops the reply being generated; Ctrl-D (end of input) leaves.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "inference/backend.hpp"
#include "inference/error.hpp"
#include "inference/text_model.hpp"

namespace inference::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) {
  g_interrupted.store(true);
}

// SIGINT → cancel the Context of the reply in progress (see cmd_run.cpp for why a thread).
class InterruptCanceller {
 public:
  InterruptCanceller() : watcher_([this](std::stop_token stop) { watch(stop); }) {
    previous_ = std::signal(SIGINT, on_interrupt);
  }
  ~InterruptCanceller() { std::signal(SIGINT, previous_); }
  /// A fresh cancellable context for the next reply.
  Context arm() {
    std::lock_guard lock(mutex_);
    g_interrupted = false;
    current_ = Context::background().with_cancel();
    return current_;
  }

 private:
  void watch(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      if (g_interrupted.exchange(false)) {
        std::lock_guard lock(mutex_);
        current_.cancel();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::mutex mutex_;
  Context current_ = Context::background().with_cancel();
  void (*previous_)(int) = SIG_DFL;
  std::jthread watcher_;
};

struct ChatOptions {
  std::string model;
  std::string system;
  std::string backend;
  int32_t ctx = 0;
  int32_t threads = 0;
  std::string kv_type;
  GenerateConfig gen{.max_tokens = 1024};
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

void chat_loop(const ChatOptions& o) {
  LoadConfig load{.backend = o.backend,
                  .context_length = o.ctx,
                  .threads = o.threads,
                  .kv_cache_type = o.kv_type};
  auto model = load_model(o.model, load);
  const bool interactive = isatty(STDIN_FILENO) != 0;
  if (interactive)
    std::cerr << "Chatting with " << model->info().name << " (" << model->info().architecture
              << "). /reset starts over, /exit or Ctrl-D leaves, Ctrl-C stops a reply.\n";

  std::vector<Message> messages;
  auto reset = [&] {
    messages.clear();
    if (!o.system.empty()) messages.push_back({"system", o.system});
  };
  reset();
  InterruptCanceller canceller;
  std::string line;
  while (true) {
    if (interactive) std::cout << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    const std::string input = trim(line);
    if (input.empty()) continue;
    if (input == "/exit" || input == "/quit") break;
    if (input == "/reset") {
      reset();
      if (interactive) std::cerr << "(conversation cleared)\n";
      continue;
    }
    messages.push_back({"user", input});
    auto ctx = canceller.arm();
    auto stream = model->chat(ctx, messages, o.gen);
    std::string reply;
    for (const Token& t : stream) {
      reply += t.text;
      std::cout << t.text << std::flush;
    }
    std::cout << "\n" << std::flush;
    const Status status = stream.err();
    if (status.code == ErrorCode::cancelled) {
      std::cerr << "(reply interrupted)\n";
    } else if (!status.ok()) {
      // Keep the session alive (e.g. the context is full): drop this turn and say why.
      messages.pop_back();
      std::cerr << "infer: error: " << status.message << "\n";
      if (!interactive) throw Error(status);
      continue;
    }
    messages.push_back({"assistant", reply});
  }
}

void setup_chat(CLI::App& root) {
  auto* cmd = root.add_subcommand("chat", "Chat with a model interactively (stdin/stdout)");
  auto o = std::make_shared<ChatOptions>();
  cmd->add_option("model", o->model, "GGUF file or Safetensors model directory")->required();
  cmd->add_option("--system", o->system, "System message for the conversation");
  cmd->add_option("--backend", o->backend, "Backend name (default: the best available)");
  cmd->add_option("-c,--ctx", o->ctx, "Context length (0 = model default, capped)");
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = one per physical core)");
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16 (default), f32, q8_0");
  auto& g = o->gen;
  cmd->add_option("-n,--max-tokens", g.max_tokens, "Tokens per reply at most (<= 0: no limit)")
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
  cmd->callback([o] { chat_loop(*o); });
}

const CommandRegistration kRegister{21, setup_chat};

}  // namespace
}  // namespace inference::cli
