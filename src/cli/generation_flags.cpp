#include "cli/generation_flags.hpp"

#include "cli/command.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cli/command.hpp"
#include "inference/error.hpp"

namespace inference::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) {
  g_interrupted.store(true);
}

}  // namespace

LoadConfig LoadFlags::config() const {
  LoadConfig c{
      .backend = backend, .context_length = ctx, .threads = threads, .kv_cache_type = kv_type};
  c.endpoints = urls;
  c.remote_model = remote_model;
  c.api_key_env = api_key_env;
  for (const auto& kv : backend_options) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ExitRequest{kUsage, "--backend-opt: expected KEY=VALUE, got '" + kv + "'"};
    c.options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& flag : lora) c.adapters.push_back(parse_adapter_flag(flag));
  c.merge_adapters = lora_merge;
  return c;
}

void add_load_flags(CLI::App* cmd, LoadFlags& flags) {
  cmd->add_option("--backend", flags.backend,
                  "Backend name: native, llama_server, http (default: the best available; "
                  "for http the MODEL is the server's base URL)");
  add_remote_flags(cmd, flags);
  cmd->add_option("-c,--ctx", flags.ctx, "Context length (0 = model default, capped)");
  cmd->add_option("-t,--threads", flags.threads, "Threads (0 = one per physical core)");
  cmd->add_option("--kv-type", flags.kv_type,
                  "KV cache type: f16 (default), f32, q8_0 (half the KV bytes of f16)");
  cmd->add_option("--lora", flags.lora,
                  "LoRA adapter PATH[:SCALE] (PEFT or mlx-lm directory, GGUF LoRA file; "
                  "repeatable)");
  cmd->add_flag("--lora-merge", flags.lora_merge,
                "Merge the adapters into float copies of the weights at load");
}

void add_remote_flags(CLI::App* cmd, LoadFlags& flags) {
  cmd->add_option("--url", flags.urls,
                  "http backend: another server base URL (repeatable: a pool)");
  cmd->add_option("--remote-model", flags.remote_model,
                  "http backend: the served model (default: the first the server lists)");
  cmd->add_option("--api-key-env", flags.api_key_env,
                  "http backend: the environment variable holding the API key");
  cmd->add_option("--backend-opt", flags.backend_options,
                  "Backend option KEY=VALUE (repeatable; see docs/backends.md)");
}

AdapterConfig parse_adapter_flag(const std::string& flag) {
  const auto colon = flag.rfind(':');
  if (colon == std::string::npos || colon == 0) return {flag, 1.0f};
  const std::string scale = flag.substr(colon + 1);
  if (scale.empty() || scale.find_first_not_of("0123456789.-+eE") != std::string::npos)
    return {flag, 1.0f};  // a ':' that belongs to the path
  try {
    size_t used = 0;
    const float value = std::stof(scale, &used);
    if (used != scale.size() || !(value >= -1e3f && value <= 1e3f))
      throw std::invalid_argument(scale);
    return {flag.substr(0, colon), value};
  } catch (const std::exception&) {
    throw Error(ErrorCode::invalid_argument, "--lora " + flag + ": '" + scale + "' is not a scale");
  }
}

void add_sampling_flags(CLI::App* cmd, GenerateConfig& g) {
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
}

void add_constraint_flags(CLI::App* cmd, ConstraintFlags& flags) {
  cmd->add_option("--grammar", flags.grammar_file, "Constrain the output to a GBNF grammar file");
  cmd->add_option("--json-schema", flags.schema_file,
                  "Constrain the output to JSON valid against a JSON Schema file");
  cmd->add_option("--regex", flags.regex, "Constrain the output to match a regular expression");
  cmd->add_flag("--any-json", flags.any_json, "Constrain the output to one JSON value");
}

OutputConstraint ConstraintFlags::constraint() const {
  const int given = !grammar_file.empty() + !schema_file.empty() + !regex.empty() + any_json;
  if (given > 1)
    throw ExitRequest{kUsage, "--grammar, --json-schema, --regex and --any-json are exclusive"};
  auto read = [](const std::string& path, const char* flag) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::not_found, std::string(flag) + ": cannot read '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  if (!grammar_file.empty()) return {OutputConstraint::Kind::gbnf, read(grammar_file, "--grammar")};
  if (!schema_file.empty())
    return {OutputConstraint::Kind::json_schema, read(schema_file, "--json-schema")};
  if (!regex.empty()) return {OutputConstraint::Kind::regex, regex};
  if (any_json) return {OutputConstraint::Kind::json, ""};
  return {};
}

InterruptCanceller::InterruptCanceller()
    : current_(Context::background().with_cancel()),
      watcher_([this](std::stop_token stop) { watch(stop); }) {
  previous_ = std::signal(SIGINT, on_interrupt);
}

InterruptCanceller::~InterruptCanceller() {
  std::signal(SIGINT, previous_);
}

Context InterruptCanceller::arm() {
  std::lock_guard lock(mutex_);
  g_interrupted = false;
  fired_ = false;
  current_ = Context::background().with_cancel();
  return current_;
}

void InterruptCanceller::watch(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    if (g_interrupted.exchange(false)) {
      std::lock_guard lock(mutex_);
      fired_ = true;
      current_.cancel();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace inference::cli
