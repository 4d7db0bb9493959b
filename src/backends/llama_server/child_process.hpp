// backends/llama_server/child_process.hpp — one server subprocess: started so that it dies with
// us (PR_SET_PDEATHSIG), its stdout+stderr kept in an OutputRing, stopped with SIGTERM then
// SIGKILL after a grace period, and always reaped (no zombies).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/llama_server/output_ring.hpp"

namespace inference::llama_server {

class ChildProcess {
 public:
  /// Starts `executable` with `args` (argv[1..]); stdin is /dev/null. Throws Error(backend)
  /// when it cannot be started (fork/exec failure shows as an exit with status 127).
  ChildProcess(const std::string& executable, const std::vector<std::string>& args);
  /// Stops the process (see stop()) and joins the output reader.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// True while the process has not exited (reaps it if it has).
  bool running();
  /// Waits up to `timeout` for the process to exit; true if it has.
  bool wait_exit(std::chrono::milliseconds timeout);
  /// "exited with status 3" / "was killed by signal 9 (Killed)", or "is running".
  std::string describe_exit();
  /// SIGTERM, up to `grace` for it to exit, then SIGKILL; reaps. Idempotent.
  void stop(std::chrono::milliseconds grace);
  /// The last `n` lines the process printed. Once it has exited, waits (briefly) until its
  /// final output has been read, so the lines that say why it died are there.
  std::string output_tail(size_t n = 12);

 private:
  bool reap_locked(bool block);

  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::mutex mutex_;
  std::optional<int> wait_status_;  // set once reaped; the pid is never signalled after that
  OutputRing output_;
  std::atomic<bool> output_closed_{false};  // the reader saw EOF
  std::thread reader_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
int pick_free_port();

}  // namespace inference::llama_server
