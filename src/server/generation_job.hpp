// server/generation_job.hpp — runs the choices of one request on the model and hands their
// tokens to the thread that writes the HTTP response.
//
// Why worker threads: the response thread must notice a client that went away while the model
// is busy (a long prefill, or a queue wait), and a TokenStream only returns between tokens. So
// each slot of the request pulls its streams on a worker of the server's WorkerPool (threads
// that live as long as the server, not one per request), and the response thread waits
// on the job's event queue, checking the client between events (at least every 50 ms). When
// the client is gone, or a write fails, the job cancels its Context: the streams end within one
// decode step and their slots go back to the pool. n choices run on min(n, slots) workers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "inference/context.hpp"
#include "inference/token_stream.hpp"
#include "server/server_state.hpp"

namespace inference::server {

/// How to start one choice.
struct ChoicePlan {
  /// Empty = generate nothing (max_tokens 0): the choice ends at once with `length`.
  std::function<TokenStream(const Context&)> start;
  int64_t max_tokens = 0;     ///< shown in /slots (0 = up to the context)
  int64_t prompt_tokens = 0;  ///< the estimate until the stream reports its own
};

/// How one choice ended.
struct ChoiceEnd {
  FinishReason finish = FinishReason::none;
  Status status;
  GenerateMetrics metrics;
};

/// A token of one choice, or the end of it.
struct JobEvent {
  int32_t index = 0;
  bool end = false;
  int64_t prompt_tokens = 0;  ///< of this choice (the backend's count once it started)
  int32_t slot = -1;          ///< the server slot running it
  Token token;                ///< when !end
  ChoiceEnd result;           ///< when end
};

class GenerationJob {
 public:
  using Clock = std::chrono::steady_clock;

  /// Takes the request's place in the queue now. Throws ApiError 429 (queue full, with the
  /// retry hint in the message) so the handler can still answer with a status code.
  GenerationJob(ServerState& state, std::vector<ChoicePlan> choices, Clock::time_point arrival);
  /// Cancels what still runs and waits for the workers (at most one decode step).
  ~GenerationJob();
  GenerationJob(const GenerationJob&) = delete;
  GenerationJob& operator=(const GenerationJob&) = delete;

  /// When the slots are free at once, starts the choices that fit here, on the handler's
  /// thread (cheap: no token is computed before the first pull), so that a generation the
  /// backend refuses outright (a config or grammar it rejects) is still answered with a 4xx
  /// status. Throws ApiError for such a refusal. Queued requests start in run() instead.
  void start_early();

  /// Waits for the slots and runs every choice to its end, calling `deliver` on this thread
  /// for each event (per choice in order; choices interleave). Returns false, with everything
  /// cancelled, when `client_alive` says the client left, `deliver` returns false, or the
  /// server shuts down first.
  bool run(const std::function<bool()>& client_alive,
           const std::function<bool(JobEvent&)>& deliver);

  size_t size() const noexcept { return choices_.size(); }

 private:
  void work(int32_t slot);
  void stop();  // cancels, waits for the workers, returns the slots; idempotent
  void push(JobEvent event);
  TokenStream start_choice(const ChoicePlan& plan);

  ServerState& state_;
  std::vector<ChoicePlan> choices_;
  Clock::time_point arrival_;
  Context ctx_;
  std::shared_ptr<SlotTicket> ticket_;
  std::vector<std::optional<TokenStream>> started_;  // by choice index, from start_early()
  std::atomic<size_t> next_choice_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  int running_ = 0;  // this job's tasks on the worker pool (under mutex_)
  std::condition_variable done_cv_;
  std::deque<JobEvent> events_;
  bool counted_in_flight_ = false;
};

}  // namespace inference::server
