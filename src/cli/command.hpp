// The command table of `infer`: each cmd_*.cpp adds one subcommand at static-init time.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace inference::cli {

/// Exit codes shared by all commands.
enum Exit : int { kOk = 0, kFailure = 1, kUsage = 2, kInterrupted = 130 };

/// Thrown by a command to exit with a specific code after printing `message` (if any).
struct ExitRequest {
  int code;
  std::string message;
};

/// Adds one subcommand to `root`. The subcommand's callback does the work and may throw
/// inference::Error (exit 1, message on stderr) or ExitRequest.
using CommandSetup = std::function<void(CLI::App& root)>;

struct CommandRegistration {
  CommandRegistration(int order, CommandSetup setup);
};

/// All registered setups, in `order` order.
std::vector<CommandSetup> registered_commands();

/// Global options every command may read (set by main before dispatch).
struct GlobalOptions {
  bool verbose = false;
};
GlobalOptions& global_options();

}  // namespace inference::cli
