// Runs the real `infer serve` for tests: on a free loopback port (--port 0), waiting for its
// "listening on URL" line on stderr; killed and reaped when the object goes away.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace inference::test {

class ServeProcess {
 public:
  /// Starts `infer serve ARGS... --port 0` (args after "serve").
  explicit ServeProcess(const std::vector<std::string>& args);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  /// The port from "listening on http://127.0.0.1:PORT", or -1 if the process exited first
  /// (or printed nothing within `max_wait_ms`).
  int wait_listening(int max_wait_ms = 60000);
  /// Sends `signal` and waits for the exit; returns the exit code (-1 if killed by a signal).
  int stop(int signal);
  /// Waits for the process to exit by itself; returns its exit code.
  int wait_exit();
  /// Everything it printed on stderr so far.
  std::string stderr_text();

 private:
  void read_stderr(int fd);
  pid_t pid_ = -1;
  int exit_code_ = -2;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string err_;
  bool eof_ = false;
};

}  // namespace inference::test
