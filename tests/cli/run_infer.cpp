#include "run_infer.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "support/testdata.hpp"

namespace inference::test {

namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

InferRun run_infer(const std::vector<std::string>& args) {
  const auto dir = make_temp_dir("infer_run");
  std::string command = shell_quote(INFER_EXE);
  for (const auto& a : args) command += " " + shell_quote(a);
  command +=
      " >" + shell_quote((dir / "out").string()) + " 2>" + shell_quote((dir / "err").string());
  const int status = std::system(command.c_str());
  InferRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(dir / "out");
  run.err = read_file(dir / "err");
  std::filesystem::remove_all(dir);
  return run;
}

}  // namespace inference::test
