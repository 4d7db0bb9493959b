#include "backends/llama_server/child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <stop_token>

#include "inference/error.hpp"

namespace inference::llama_server {
namespace {

// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. A
// request thread may be short-lived, so every fork happens on this one thread, which lives as
// long as the process: the children die with us and not with some worker.
class Launcher {
 public:
  static Launcher& instance() {
    static Launcher launcher;
    return launcher;
  }
  pid_t run(std::function<pid_t()> job) {
    std::packaged_task<pid_t()> task(std::move(job));
    auto result = task.get_future();
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(task));
    }
    ready_.notify_all();
    return result.get();
  }

 private:
  Launcher()
      : thread_([this](std::stop_token stop) {
          std::unique_lock lock(mutex_);
          while (ready_.wait(lock, stop, [&] { return !jobs_.empty(); })) {
            auto job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            job();
            lock.lock();
          }
        }) {}
  std::mutex mutex_;
  std::condition_variable_any ready_;
  std::deque<std::packaged_task<pid_t()>> jobs_;
  std::jthread thread_;
};

}  // namespace

int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(ErrorCode::backend, std::string("socket(): ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    throw Error(ErrorCode::backend, std::string("cannot find a free port: ") + std::strerror(e));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

ChildProcess::ChildProcess(const std::string& executable, const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw Error(ErrorCode::backend, std::string("pipe(): ") + std::strerror(errno));
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<std::string> storage;
  storage.push_back(executable);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const int write_fd = pipe_fds[1];

  pid_ = Launcher::instance().run([&]() -> pid_t {
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    // Child.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl took effect
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(write_fd, 1);
    ::dup2(write_fd, 2);
    ::close_range(3, ~0U, 0);  // no socket or file of ours stays open in the server
    ::execv(argv[0], argv.data());
    static const char kMessage[] = "cannot execute the server binary\n";
    [[maybe_unused]] auto n = ::write(2, kMessage, sizeof(kMessage) - 1);
    ::_exit(127);
  });
  ::close(pipe_fds[1]);
  if (pid_ < 0) {
    int e = errno;
    ::close(pipe_fds[0]);
    throw Error(ErrorCode::backend, std::string("fork(): ") + std::strerror(e));
  }
  output_fd_ = pipe_fds[0];
  reader_ = std::thread([this] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(output_fd_, buf, sizeof(buf));
      if (n > 0) {
        output_.append(std::string_view(buf, static_cast<size_t>(n)));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;  // EOF: the process (and anything it passed the pipe to) is gone
      }
    }
    output_closed_ = true;
  });
}

ChildProcess::~ChildProcess() {
  stop(std::chrono::milliseconds(2000));
  if (reader_.joinable()) reader_.join();
  if (output_fd_ >= 0) ::close(output_fd_);
}

bool ChildProcess::reap_locked(bool block) {
  if (wait_status_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    wait_status_ = status;
    return true;
  }
  if (r < 0) {  // ECHILD: someone else reaped it; treat as gone
    wait_status_ = 0;
    return true;
  }
  return false;
}

bool ChildProcess::running() {
  std::lock_guard lock(mutex_);
  return !reap_locked(false);
}

bool ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (reap_locked(false)) return true;
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ChildProcess::output_tail(size_t n) {
  if (!running()) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (!output_closed_.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return output_.tail(n);
}

std::string ChildProcess::describe_exit() {
  std::lock_guard lock(mutex_);
  if (!reap_locked(false)) return "is running";
  int s = *wait_status_;
  if (WIFEXITED(s)) return "exited with status " + std::to_string(WEXITSTATUS(s));
  if (WIFSIGNALED(s))
    return "was killed by signal " + std::to_string(WTERMSIG(s)) + " (" + ::strsignal(WTERMSIG(s)) +
           ")";
  return "stopped (wait status " + std::to_string(s) + ")";
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    if (reap_locked(false)) return;
    ::kill(pid_, SIGTERM);
  }
  if (wait_exit(grace)) return;
  std::lock_guard lock(mutex_);
  if (reap_locked(false)) return;
  ::kill(pid_, SIGKILL);
  reap_locked(true);
}

}  // namespace inference::llama_server
