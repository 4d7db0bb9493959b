#include "server/generation_job.hpp"

namespace inference::server {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(50);

double seconds(GenerationJob::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

GenerationJob::GenerationJob(ServerState& state, std::vector<ChoicePlan> choices,
                             Clock::time_point arrival)
    : state_(state),
      choices_(std::move(choices)),
      arrival_(arrival),
      ctx_(state.root.with_cancel()),
      started_(choices_.size()) {
  ticket_ = state_.pool->enqueue(static_cast<int32_t>(choices_.size()));
  if (!ticket_) {
    state_.metrics.rejected_queue_full();
    throw ApiError(429, "the server is busy: all " + std::to_string(state_.pool->size()) +
                            " slots are generating and " +
                            std::to_string(state_.pool->max_queue()) +
                            " requests are waiting; retry later");
  }
}

GenerationJob::~GenerationJob() {
  stop();
}

void GenerationJob::stop() {
  ctx_.cancel();
  {
    // Each stream ends at its next cancellation check.
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [this] { return running_ == 0; });
  }
  for (auto& stream : started_) stream.reset();  // started early, never pulled
  if (counted_in_flight_) --state_.metrics.in_flight;
  counted_in_flight_ = false;
  ticket_->release();  // before the last bytes go out: a client that saw the end sees the slot free
}

TokenStream GenerationJob::start_choice(const ChoicePlan& plan) {
  // A backend may free its sequence a moment after the previous stream on this slot was
  // destroyed (remote servers, a batching thread): retry a start refused as busy, briefly.
  for (int attempt = 0;; ++attempt) {
    TokenStream stream = plan.start(ctx_);
    if (!stream.done() || stream.err().code != ErrorCode::unavailable || attempt >= 100 ||
        ctx_.cancelled())
      return stream;
    if (!ctx_.sleep_for(std::chrono::milliseconds(20))) return stream;
  }
}

void GenerationJob::start_early() {
  if (!ticket_->wait(std::chrono::milliseconds(0))) return;
  const size_t n = std::min(choices_.size(), ticket_->slots().size());
  for (size_t i = 0; i < n; ++i) {
    if (!choices_[i].start) continue;
    TokenStream stream = start_choice(choices_[i]);
    if (stream.done() && !stream.err().ok()) {
      const Status& s = stream.err();
      throw ApiError(s.code == ErrorCode::invalid_argument || s.code == ErrorCode::unsupported ? 400
                     : s.code == ErrorCode::unavailable                                        ? 503
                                                        : 500,
                     s.message.empty() ? std::string(to_string(s.code)) : s.message);
    }
    started_[i] = std::move(stream);
  }
}

void GenerationJob::work(int32_t slot) {
  for (size_t index = next_choice_++; index < choices_.size(); index = next_choice_++) {
    const ChoicePlan& plan = choices_[index];
    const auto i = static_cast<int32_t>(index);
    if (!plan.start) {  // nothing to generate (max_tokens 0): the choice ends at once
      JobEvent end{.index = i, .end = true, .prompt_tokens = plan.prompt_tokens, .slot = slot};
      end.result.finish = FinishReason::length;
      end.result.metrics.prompt_tokens = plan.prompt_tokens;
      end.result.metrics.finish_reason = FinishReason::length;
      push(std::move(end));
      continue;
    }
    TokenStream stream = started_[index] ? std::move(*started_[index]) : start_choice(plan);
    started_[index].reset();
    int64_t prompt_tokens = stream.metrics().prompt_tokens;
    if (prompt_tokens <= 0) prompt_tokens = plan.prompt_tokens;
    state_.pool->update(slot, prompt_tokens, 0, plan.max_tokens);
    auto last = arrival_;
    int64_t decoded = 0;
    Token token;
    while (stream.next(token)) {
      const auto now = Clock::now();
      if (decoded == 0) {
        state_.metrics.first_token(seconds(now - arrival_));
      } else {
        state_.metrics.inter_token(seconds(now - last));
      }
      last = now;
      ++decoded;
      state_.pool->update(slot, prompt_tokens, decoded, plan.max_tokens);
      push({.index = i, .prompt_tokens = prompt_tokens, .slot = slot, .token = std::move(token)});
      token = Token{};
    }
    JobEvent end{.index = i, .end = true, .prompt_tokens = prompt_tokens, .slot = slot};
    end.result.status = stream.err();
    end.result.metrics = stream.metrics();
    end.result.finish = stream.finish_reason();
    stream.close();  // the backend's sequence is free before the slot is handed on
    state_.metrics.choice_done(end.result.metrics);
    push(std::move(end));
  }
}

void GenerationJob::push(JobEvent event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  cv_.notify_one();
}

bool GenerationJob::run(const std::function<bool()>& client_alive,
                        const std::function<bool(JobEvent&)>& deliver) {
  // Queued: wait for the slots, watching the client and the server's shutdown.
  while (!ticket_->wait(kPoll)) {
    if (ctx_.cancelled() || !client_alive()) {
      stop();
      return false;
    }
  }
  ++state_.metrics.in_flight;
  counted_in_flight_ = true;
  for (int32_t slot : ticket_->slots()) {
    {
      std::lock_guard lock(mutex_);
      ++running_;
    }
    state_.workers->post([this, slot] {
      work(slot);
      // Notified under the lock: stop() cannot see 0 and destroy the job before this returns.
      std::lock_guard lock(mutex_);
      --running_;
      done_cv_.notify_all();
    });
  }

  size_t ended = 0;
  auto last_check = Clock::now();
  std::deque<JobEvent> batch;
  while (ended < choices_.size()) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, kPoll, [&] { return !events_.empty(); });
      batch.swap(events_);
    }
    for (JobEvent& event : batch) {
      if (event.end) ++ended;
      if (!deliver(event)) {
        stop();
        return false;
      }
    }
    batch.clear();
    // Writes notice a closed socket only when they fail; a request that writes nothing until
    // the end (non-streaming) or sits in a long prefill is checked here.
    if (const auto now = Clock::now(); now - last_check >= kPoll) {
      last_check = now;
      if (!client_alive()) {
        stop();
        return false;
      }
    }
  }
  stop();
  return true;
}

}  // namespace inference::server
