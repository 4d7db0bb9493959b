#include "ml/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace inference::ml {
namespace {

std::string clock_text(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

bool stderr_is_tty() {
  return isatty(STDERR_FILENO) == 1;
}

Progress::Progress(std::ostream* out, std::string label, size_t total, size_t already_done,
                   bool tty, std::chrono::milliseconds interval)
    : out_(out),
      label_(std::move(label)),
      total_(total),
      done_(already_done),
      resumed_(already_done),
      tty_(tty),
      interval_(interval),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

size_t Progress::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

double Progress::rate() const {
  std::lock_guard lock(mutex_);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return secs > 0 ? static_cast<double>(done_ - resumed_) / secs : 0.0;
}

void Progress::advance(size_t n) {
  std::lock_guard lock(mutex_);
  done_ += n;
  const auto now = std::chrono::steady_clock::now();
  const auto gap = tty_ ? std::chrono::milliseconds(100) : interval_;
  if (now - last_draw_ >= gap) {
    last_draw_ = now;
    draw_locked(false);
  }
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  draw_locked(true);
}

void Progress::draw_locked(bool final) {
  if (!out_) return;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_ - resumed_) / secs : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done_, total_)) / rate : -1;
  char stats[128];
  std::snprintf(stats, sizeof stats, "%zu/%zu  %.1f/s  ETA %s", done_, total_, rate,
                clock_text(eta).c_str());
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled =
        total_ ? static_cast<int>(kWidth * static_cast<double>(done_) / static_cast<double>(total_))
               : kWidth;
    std::string bar(static_cast<size_t>(std::min(filled, kWidth)), '#');
    bar.resize(kWidth, ' ');
    *out_ << "\r" << label_ << " [" << bar << "] " << stats << "   ";
    if (final) *out_ << "\n";
  } else {
    *out_ << label_ << ": " << stats << (final ? " (done)" : "") << "\n";
  }
  out_->flush();
}

}  // namespace inference::ml
