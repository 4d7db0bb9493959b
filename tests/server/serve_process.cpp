#include "serve_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

namespace inference::test {

ServeProcess::ServeProcess(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return;
  std::vector<std::string> argv_strings = {INFER_EXE, "serve"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  argv_strings.push_back("--port");
  argv_strings.push_back("0");
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv(INFER_EXE, argv.data());
    _exit(127);
  }
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { read_stderr(fd); });
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0 && exit_code_ == -2) stop(SIGKILL);
  if (reader_.joinable()) reader_.join();
}

void ServeProcess::read_stderr(int fd) {
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    err_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mutex_);
  eof_ = true;
  cv_.notify_all();
}

int ServeProcess::wait_listening(int max_wait_ms) {
  static const std::regex kListening(R"(listening on http://127\.0\.0\.1:([0-9]+))");
  std::unique_lock lock(mutex_);
  std::smatch m;
  cv_.wait_for(lock, std::chrono::milliseconds(max_wait_ms),
               [&] { return eof_ || std::regex_search(err_, m, kListening); });
  if (!std::regex_search(err_, m, kListening)) return -1;
  return std::stoi(m[1].str());
}

int ServeProcess::wait_exit() {
  if (pid_ <= 0) return -1;
  if (exit_code_ != -2) return exit_code_;
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return exit_code_;
}

int ServeProcess::stop(int signal) {
  if (pid_ <= 0) return -1;
  if (exit_code_ == -2) kill(pid_, signal);
  return wait_exit();
}

std::string ServeProcess::stderr_text() {
  std::lock_guard lock(mutex_);
  return err_;
}

}  // namespace inference::test
