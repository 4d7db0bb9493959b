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
#include "cli/generation_flags.hpp"
#include "inference/backend.hpp"
#include "inference/error.hpp"
#include "inference/text_model.hpp"

namespace inference::cli {
namespace {

struct ChatOptions {
  std::string model;
  std::string system;
  LoadFlags load;
  GenerateConfig gen{.max_tokens = 1024};
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

void chat_loop(const ChatOptions& o) {
  auto model = load_model(o.model, o.load.config());
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
  add_load_flags(cmd, o->load);
  add_sampling_flags(cmd, o->gen);
  cmd->callback([o] { chat_loop(*o); });
}

const CommandRegistration kRegister{21, setup_chat};

}  // namespace
}  // namespace inference::cli
