// inference/context.hpp — cancellation and deadlines for every call that can block.
//
// The C++ form of Go's context.Context. A Context is a cheap, copyable handle to shared state;
// copies observe the same cancellation. Derived contexts (with_cancel, with_timeout,
// with_deadline) are cancelled when their parent is, never the other way round. All members are
// thread-safe: one thread may cancel while others poll or wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "inference/error.hpp"

namespace inference {

namespace detail {
struct ContextState;
}

/// Keeps a callback registered with Context::on_done(); destroying it (or calling reset())
/// unregisters the callback and, if it is running on another thread, waits for it to return.
/// Move-only.
class CallbackRegistration {
 public:
  CallbackRegistration() = default;
  CallbackRegistration(CallbackRegistration&& other) noexcept;
  CallbackRegistration& operator=(CallbackRegistration&& other) noexcept;
  CallbackRegistration(const CallbackRegistration&) = delete;
  CallbackRegistration& operator=(const CallbackRegistration&) = delete;
  ~CallbackRegistration();
  void reset() noexcept;

 private:
  friend class Context;
  CallbackRegistration(std::weak_ptr<detail::ContextState> state, uint64_t id)
      : state_(std::move(state)), id_(id) {}
  std::weak_ptr<detail::ContextState> state_;
  uint64_t id_ = 0;
};

class Context {
 public:
  using Clock = std::chrono::steady_clock;

  /// A context that is never cancelled and has no deadline (the root of every tree).
  static Context background();

  /// Default-constructed == background().
  Context();

  /// A child that can be cancelled on its own with cancel(); cancelled with its parent.
  Context with_cancel() const;
  /// A child whose deadline is now + timeout (or the parent's, if earlier).
  Context with_timeout(Clock::duration timeout) const;
  /// A child with the given deadline (or the parent's, if earlier).
  Context with_deadline(Clock::time_point deadline) const;

  /// Cancels this context and all contexts derived from it. Idempotent. Cancelling
  /// background() has no effect on other background contexts (each is its own root).
  void cancel() const;

  /// True once cancelled (here or in an ancestor) or past the deadline. Lock-free fast path:
  /// safe to call once per token.
  bool cancelled() const noexcept;

  /// Why the context is done: ok while live, else ErrorCode::cancelled or deadline_exceeded
  /// with a message.
  Status status() const;

  /// The earliest deadline along the chain, if any.
  std::optional<Clock::time_point> deadline() const;

  /// Sleeps up to `duration`; returns early (false) when the context is done. Returns true if
  /// the full duration elapsed with the context still live. For retry back-off and polling.
  bool sleep_for(Clock::duration duration) const;

  /// Calls `callback` once when this context is done — cancelled (here or in an ancestor) or
  /// past its deadline — so a blocked wait (a socket read, a condition variable, a queue) can be
  /// woken. Runs at once, on this thread, if the context is already done; otherwise on the
  /// thread that cancels, or on an internal timer thread at the deadline. The callback must be
  /// quick and must not throw. Keep the returned registration alive as long as the callback may
  /// run; destroying it unregisters.
  [[nodiscard]] CallbackRegistration on_done(std::function<void()> callback) const;

 private:
  explicit Context(std::shared_ptr<detail::ContextState> state);
  std::shared_ptr<detail::ContextState> state_;
};

}  // namespace inference
