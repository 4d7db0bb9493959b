// ml/progress.hpp — progress of a long run: a redrawn bar with rate and ETA on a terminal,
// plain periodic lines otherwise (logs, CI). The library never prints on its own: the caller
// passes the stream (the CLI passes stderr) or none.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>

namespace inference::ml {

class Progress {
 public:
  /// `out` may be null (silent). `tty` selects the bar; otherwise a line every `interval`.
  Progress(std::ostream* out, std::string label, size_t total, size_t already_done, bool tty,
           std::chrono::milliseconds interval = std::chrono::seconds(5));
  /// Counts `n` more finished items; thread-safe; redraws at most every 100 ms (bar).
  void advance(size_t n = 1);
  /// Final line with the totals.
  void finish();
  size_t done() const;
  /// Items finished in this process per second.
  double rate() const;

 private:
  void draw_locked(bool final);
  std::ostream* out_;
  std::string label_;
  size_t total_, done_, resumed_;
  bool tty_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  mutable std::mutex mutex_;
};

/// Whether stderr is a terminal (for choosing the bar).
bool stderr_is_tty();

}  // namespace inference::ml
