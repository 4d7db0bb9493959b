// Runs the built `infer` binary for CLI tests and captures what it printed.
#pragma once

#include <string>
#include <vector>

namespace inference::test {

struct InferRun {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs `infer args...` (arguments are single-quoted for the shell) and waits for it.
InferRun run_infer(const std::vector<std::string>& args);

}  // namespace inference::test
