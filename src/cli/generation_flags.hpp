// Flags and Ctrl-C handling shared by the commands that load a model and generate (run, chat).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "inference/context.hpp"
#include "inference/types.hpp"

namespace inference::cli {

/// "PATH" or "PATH:SCALE" (--lora) → an adapter; throws Error(invalid_argument) for a bad scale.
AdapterConfig parse_adapter_flag(const std::string& flag);

/// How to load the model: --backend, -c/--ctx, -t/--threads, --kv-type, --lora, --lora-merge,
/// and for the remote backends --url (repeatable: a pool), --remote-model, --api-key-env,
/// --backend-opt KEY=VALUE.
struct LoadFlags {
  std::string backend;
  int32_t ctx = 0;
  int32_t threads = 0;
  std::string kv_type;
  std::vector<std::string> lora;
  bool lora_merge = false;
  std::vector<std::string> urls;
  std::string remote_model;
  std::string api_key_env;
  std::vector<std::string> backend_options;  // "KEY=VALUE"
  /// Throws ExitRequest (usage) for a --backend-opt without '=', Error for a bad --lora.
  LoadConfig config() const;
};

void add_load_flags(CLI::App* cmd, LoadFlags& flags);
/// Only the remote backends' flags: --url, --remote-model, --api-key-env, --backend-opt (for
/// commands with their own --backend, -c, -t, such as serve).
void add_remote_flags(CLI::App* cmd, LoadFlags& flags);

/// The sampling and stopping flags: -n, --temp, --top-k, --top-p, --min-p, --repeat-penalty,
/// --repeat-last-n, --presence-penalty, --frequency-penalty, --seed, --stop, --ignore-eos.
void add_sampling_flags(CLI::App* cmd, GenerateConfig& config);

/// Output constraints: --grammar FILE.gbnf, --json-schema FILE.json, --regex PATTERN,
/// --any-json (at most one). (`infer run --json` already means "print one JSON object".)
struct ConstraintFlags {
  std::string grammar_file;
  std::string schema_file;
  std::string regex;
  bool any_json = false;
  /// The constraint the flags ask for (files read now); throws ExitRequest for conflicting
  /// flags and Error(not_found) for an unreadable file.
  OutputConstraint constraint() const;
};

void add_constraint_flags(CLI::App* cmd, ConstraintFlags& flags);

/// Turns SIGINT into cancellation of the generation in progress. A signal handler may not take
/// locks, so the handler only sets a flag and a watcher thread cancels the armed Context.
/// Cancellation is checked inside the engine, so it also stops a long prompt evaluation.
class InterruptCanceller {
 public:
  InterruptCanceller();
  ~InterruptCanceller();
  InterruptCanceller(const InterruptCanceller&) = delete;
  InterruptCanceller& operator=(const InterruptCanceller&) = delete;

  /// A fresh cancellable context for the next generation (Ctrl-C cancels this one only).
  Context arm();
  /// Whether Ctrl-C cancelled the context armed last.
  bool interrupted() const { return fired_.load(); }

 private:
  void watch(const std::stop_token& stop);
  std::mutex mutex_;
  Context current_;
  std::atomic<bool> fired_{false};
  void (*previous_)(int) = nullptr;
  std::jthread watcher_;
};

}  // namespace inference::cli
