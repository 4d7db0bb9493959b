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

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "inference/error.hpp"
#include "inference/text_model.hpp"

namespace inference::cli {
namespace {

struct RunOptions {
  std::string model;
  std::string prompt;
  std::string tokens;
  std::string system;
  bool chat = false;
  bool json = false;
  LoadFlags load;
  GenerateConfig gen;
  ConstraintFlags constraint;
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

void run(const RunOptions& options) {
  RunOptions o = options;
  o.gen.constraint = o.constraint.constraint();
  if (o.chat && !o.tokens.empty())
    throw ExitRequest{kUsage, "--chat and --tokens cannot be combined"};
  std::string prompt = o.prompt;
  std::vector<int32_t> ids;
  if (!o.tokens.empty()) {
    ids = parse_ids(o.tokens);
  } else if (prompt.empty()) {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }

  auto model = load_model(o.model, o.load.config());
  InterruptCanceller canceller;
  auto ctx = canceller.arm();

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
  add_load_flags(cmd, o->load);
  add_sampling_flags(cmd, o->gen);
  add_constraint_flags(cmd, o->constraint);
  cmd->callback([o] { run(*o); });
}

const CommandRegistration kRegister{20, setup_run};

}  // namespace
}  // namespace inference::cli
