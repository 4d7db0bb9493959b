#include "inference/context.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
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
  // on_done() callbacks by id; `running` is the id whose callback runs now (0: none).
  std::map<uint64_t, std::function<void()>> callbacks;
  uint64_t running = 0;
  std::thread::id runner;
  std::condition_variable callback_done;

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
    run_callbacks();
    for (auto& child : live) child->cancel_tree();
  }

  // Runs (and removes) every registered callback, or only `only` when non-zero.
  void run_callbacks(uint64_t only = 0) {
    std::unique_lock lock(mutex);
    for (;;) {
      auto it = only ? callbacks.find(only) : callbacks.begin();
      if (it == callbacks.end()) return;
      const uint64_t id = it->first;
      auto callback = std::move(it->second);
      callbacks.erase(it);
      running = id;
      runner = std::this_thread::get_id();
      lock.unlock();
      callback();
      lock.lock();
      running = 0;
      callback_done.notify_all();
      if (only) return;
    }
  }

  void unregister(uint64_t id) noexcept {
    std::unique_lock lock(mutex);
    callbacks.erase(id);
    callback_done.wait(lock, [&] { return running != id || runner == std::this_thread::get_id(); });
  }

  bool explicitly_cancelled() const noexcept {
    for (const ContextState* s = this; s; s = s->parent.get()) {
      if (s->cancelled.load(std::memory_order_acquire)) return true;
    }
    return false;
  }
};

// One process-wide thread that fires on_done() callbacks of contexts whose deadline passes.
class DeadlineTimer {
 public:
  static DeadlineTimer& instance() {
    static DeadlineTimer timer;
    return timer;
  }

  void add(Context::Clock::time_point when, std::weak_ptr<ContextState> state, uint64_t id) {
    {
      std::lock_guard lock(mutex_);
      entries_.insert(Entry{when, next_seq_++, std::move(state), id});
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    wake_.notify_all();
  }

  ~DeadlineTimer() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Entry {
    Context::Clock::time_point when;
    uint64_t seq;
    std::weak_ptr<ContextState> state;
    uint64_t id;
    bool operator<(const Entry& other) const {
      return std::tie(when, seq) < std::tie(other.when, other.seq);
    }
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (entries_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const auto first = entries_.begin();
      if (Context::Clock::now() < first->when) {
        wake_.wait_until(lock, first->when);
        continue;
      }
      Entry entry = *first;
      entries_.erase(first);
      lock.unlock();
      if (auto state = entry.state.lock()) state->run_callbacks(entry.id);
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multiset<Entry> entries_;
  uint64_t next_seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

std::atomic<uint64_t> next_callback_id{1};

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

CallbackRegistration Context::on_done(std::function<void()> callback) const {
  if (cancelled()) {
    callback();
    return {};
  }
  const uint64_t id = detail::next_callback_id.fetch_add(1);
  {
    std::lock_guard lock(state_->mutex);
    state_->callbacks.emplace(id, std::move(callback));
  }
  // A cancel that raced with the registration has already run the callbacks it saw.
  if (state_->explicitly_cancelled()) state_->run_callbacks(id);
  if (state_->deadline) detail::DeadlineTimer::instance().add(*state_->deadline, state_, id);
  return CallbackRegistration(state_, id);
}

CallbackRegistration::CallbackRegistration(CallbackRegistration&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_) {
  other.id_ = 0;
}

CallbackRegistration& CallbackRegistration::operator=(CallbackRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

CallbackRegistration::~CallbackRegistration() {
  reset();
}

void CallbackRegistration::reset() noexcept {
  if (id_ == 0) return;
  if (auto state = state_.lock()) state->unregister(id_);
  state_.reset();
  id_ = 0;
}

}  // namespace inference
