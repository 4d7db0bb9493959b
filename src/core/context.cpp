#include "inference/context.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace inference {
namespace detail {

// Shared by all copies of one Context. A child keeps its parent alive (so the chain can be
// polled); a parent knows its children weakly (so cancel() can wake their sleepers).
struct ContextState {
  std::shared_ptr<ContextState> parent;
  std::optional<Context::Clock::time_point> deadline;  // earliest along the chain
  std::atomic<bool> cancelled{false};
  std::mutex mutex;
  std::condition_variable wake;
  std::vector<std::weak_ptr<ContextState>> children;

  void cancel_tree() {
    std::vector<std::shared_ptr<ContextState>> live;
    {
      std::lock_guard lock(mutex);
      cancelled.store(true, std::memory_order_release);
      for (auto& weak : children) {
        if (auto child = weak.lock()) live.push_back(std::move(child));
      }
      children.clear();
    }
    wake.notify_all();
    for (auto& child : live) child->cancel_tree();
  }

  bool explicitly_cancelled() const noexcept {
    for (const ContextState* s = this; s; s = s->parent.get()) {
      if (s->cancelled.load(std::memory_order_acquire)) return true;
    }
    return false;
  }
};

}  // namespace detail

namespace {

std::shared_ptr<detail::ContextState> make_child(
    const std::shared_ptr<detail::ContextState>& parent,
    std::optional<Context::Clock::time_point> deadline) {
  auto child = std::make_shared<detail::ContextState>();
  child->parent = parent;
  child->deadline = parent->deadline;
  if (deadline && (!child->deadline || *deadline < *child->deadline)) child->deadline = deadline;
  {
    std::lock_guard lock(parent->mutex);
    // Drop entries of children that are gone so long-lived parents do not grow without bound.
    std::erase_if(parent->children, [](const auto& weak) { return weak.expired(); });
    parent->children.push_back(child);
    if (parent->cancelled.load(std::memory_order_acquire)) {
      child->cancelled.store(true, std::memory_order_release);
    }
  }
  return child;
}

}  // namespace

Context::Context() : state_(std::make_shared<detail::ContextState>()) {}
Context::Context(std::shared_ptr<detail::ContextState> state) : state_(std::move(state)) {}

Context Context::background() {
  return Context();
}

Context Context::with_cancel() const {
  return Context(make_child(state_, std::nullopt));
}

Context Context::with_timeout(Clock::duration timeout) const {
  return with_deadline(Clock::now() + timeout);
}

Context Context::with_deadline(Clock::time_point deadline) const {
  return Context(make_child(state_, deadline));
}

void Context::cancel() const {
  state_->cancel_tree();
}

bool Context::cancelled() const noexcept {
  if (state_->explicitly_cancelled()) return true;
  return state_->deadline && Clock::now() >= *state_->deadline;
}

Status Context::status() const {
  if (state_->explicitly_cancelled()) return {ErrorCode::cancelled, "context cancelled"};
  if (state_->deadline && Clock::now() >= *state_->deadline) {
    return {ErrorCode::deadline_exceeded, "context deadline exceeded"};
  }
  return {};
}

std::optional<Context::Clock::time_point> Context::deadline() const {
  return state_->deadline;
}

bool Context::sleep_for(Clock::duration duration) const {
  auto until = Clock::now() + duration;
  bool stopped_by_deadline = false;
  if (state_->deadline && *state_->deadline < until) {
    until = *state_->deadline;
    stopped_by_deadline = true;
  }
  std::unique_lock lock(state_->mutex);
  // Waking on cancellation of an ancestor works because cancel_tree() notifies every
  // descendant; the predicate re-checks the whole chain.
  state_->wake.wait_until(lock, until, [&] { return state_->explicitly_cancelled(); });
  lock.unlock();
  if (state_->explicitly_cancelled()) return false;
  return !stopped_by_deadline;
}

}  // namespace inference
