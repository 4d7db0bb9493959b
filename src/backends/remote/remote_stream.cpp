#include "backends/remote/remote_stream.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "backends/remote/remote_call.hpp"

namespace inference::remote {
namespace {

using Clock = std::chrono::steady_clock;

// Enough to absorb a burst of events without holding the server back; small enough that an
// abandoned stream does not buffer a whole generation.
constexpr size_t kQueueLimit = 64;

FinishReason reason_for(const Status& s) {
  if (s.code == ErrorCode::cancelled) return FinishReason::cancelled;
  if (s.code == ErrorCode::deadline_exceeded) return FinishReason::deadline;
  return FinishReason::error;
}

class RemoteTokenSource final : public TokenSource {
 public:
  RemoteTokenSource(const Context& ctx, std::shared_ptr<EndpointSource> source,
                    StreamRequest request)
      : ctx_(ctx),
        stream_ctx_(ctx.with_cancel()),
        source_(std::move(source)),
        request_(std::move(request)),
        start_(Clock::now()) {
    wake_ = ctx_.on_done([this] {
      std::lock_guard lock(mutex_);
      changed_.notify_all();
    });
    thread_ = std::thread([this] { run(); });
  }

  ~RemoteTokenSource() override {
    {
      std::lock_guard lock(mutex_);
      abandoned_ = true;
    }
    changed_.notify_all();
    stream_ctx_.cancel();  // shuts the socket down: the request thread returns promptly
    thread_.join();
    wake_.reset();
  }

  bool next(Token& out) override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || ended_ || ctx_.cancelled(); });
    // A cancelled context ends the stream now, even with tokens still queued.
    if (ctx_.cancelled()) {
      if (consumer_status_.ok() && !consumer_done_) consumer_status_ = ctx_.status();
      consumer_done_ = true;
      return false;
    }
    if (!queue_.empty()) {
      out = std::move(queue_.front());
      queue_.pop_front();
      changed_.notify_all();
      return true;
    }
    consumer_status_ = end_status_;
    consumer_done_ = true;
    return false;
  }

  // See start_remote_stream: the error of a request that failed before it was accepted.
  Status wait_accepted() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return accepted_ || ended_ || ctx_.cancelled(); });
    if (ended_ && emitted_ == 0 && !end_status_.ok()) return end_status_;
    return {};
  }

  Status status() const override {
    std::lock_guard lock(mutex_);
    return consumer_status_;
  }

  GenerateMetrics metrics() const override {
    std::lock_guard lock(mutex_);
    GenerateMetrics m = metrics_locked();
    if (!consumer_done_)
      m.finish_reason = FinishReason::none;
    else if (!consumer_status_.ok())
      m.finish_reason = reason_for(consumer_status_);
    return m;
  }

 private:
  GenerateMetrics metrics_locked() const {
    GenerateMetrics m;
    m.generated_tokens = usage_.generated_tokens.value_or(emitted_);
    m.prompt_tokens = usage_.prompt_tokens.value_or(0);
    m.cached_prompt_tokens = usage_.cached_tokens.value_or(0);
    if (first_token_) m.time_to_first_token = *first_token_ - start_;
    if (usage_.prompt_ms) {
      m.prefill_duration = std::chrono::nanoseconds(static_cast<int64_t>(*usage_.prompt_ms * 1e6));
    } else if (first_token_) {
      m.prefill_duration = m.time_to_first_token;  // the best a client can see
    }
    if (usage_.generation_ms) {
      m.decode_duration =
          std::chrono::nanoseconds(static_cast<int64_t>(*usage_.generation_ms * 1e6));
    } else if (first_token_ && last_token_) {
      m.decode_duration = *last_token_ - *first_token_;
    }
    if (m.prefill_duration.count() > 0 && m.prompt_tokens > 0)
      m.prefill_tokens_per_second = static_cast<double>(m.prompt_tokens) * 1e9 /
                                    static_cast<double>(m.prefill_duration.count());
    // Decode time covers the tokens after the first when measured here.
    int64_t decoded = usage_.generation_ms ? m.generated_tokens : m.generated_tokens - 1;
    if (m.decode_duration.count() > 0 && decoded > 0)
      m.decode_tokens_per_second =
          static_cast<double>(decoded) * 1e9 / static_cast<double>(m.decode_duration.count());
    m.finish_reason = finish_;
    return m;
  }

  // Producer side: hands one token to the consumer, waiting while the queue is full. False
  // when the consumer is gone.
  bool push(Token token) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < kQueueLimit || abandoned_; });
    if (abandoned_) return false;
    auto now = Clock::now();
    if (!first_token_) first_token_ = now;
    last_token_ = now;
    ++emitted_;
    queue_.push_back(std::move(token));
    changed_.notify_all();
    return true;
  }

  // Applies one decoded event; false to stop reading.
  bool apply(ChunkUpdate& update) {
    {
      std::lock_guard lock(mutex_);
      usage_.merge(update.usage);
    }
    if (limit_reached_) {
      // max_tokens is met: a well-behaved server ends now and its last events carry the usage
      // figures, so keep reading them, but stop if it goes on generating regardless.
      if (!update.tokens.empty() && ++events_past_limit_ > 4) return false;
      update.tokens.clear();
    }
    for (Token& t : update.tokens) {
      if (t.id >= 0 && std::find(request_.stop_tokens.begin(), request_.stop_tokens.end(), t.id) !=
                           request_.stop_tokens.end()) {
        set_finish(FinishReason::stop_token);
        return false;
      }
      if (!push(std::move(t))) return false;
      if (request_.max_tokens > 0 && emitted_ >= request_.max_tokens) {
        set_finish(FinishReason::length);
        limit_reached_ = true;
        break;
      }
    }
    if (!update.error.ok()) {
      error_ = update.error;
      return false;
    }
    if (update.finish != FinishReason::none && !limit_reached_) set_finish(update.finish);
    if (update.done) {
      terminal_seen_ = true;
      return false;
    }
    return true;
  }

  void set_finish(FinishReason reason) {
    std::lock_guard lock(mutex_);
    finish_ = reason;
  }

  void run() {
    net::SseParser parser;
    Status parse_error;
    CallHooks hooks;
    hooks.on_attempt = [&] {
      parser.reset();
      parse_error = {};
    };
    hooks.on_accepted = [&] {
      std::lock_guard lock(mutex_);
      accepted_ = true;
      changed_.notify_all();
    };
    hooks.committed = [&] {
      std::lock_guard lock(mutex_);
      return emitted_ > 0;
    };
    hooks.on_body = [&](std::string_view bytes) {
      bool keep_going = true;
      Status s = parser.feed(bytes, [&](const net::SseEvent& event) {
        if (!keep_going) return;
        ChunkUpdate update;
        try {
          request_.decode(event, update);
        } catch (const std::exception& e) {
          parse_error = {ErrorCode::backend, std::string("malformed event from the server: ") +
                                                 e.what() + " in: " + event.data.substr(0, 200)};
          keep_going = false;
          return;
        }
        keep_going = apply(update);
      });
      if (!s.ok()) {
        parse_error = {ErrorCode::backend, s.message};
        return false;
      }
      return keep_going;
    };
    Status status = perform_call(stream_ctx_, *source_, request_.http, hooks);
    if (status.ok() && !parse_error.ok()) status = parse_error;
    if (status.ok() && !error_.ok()) status = error_;
    bool abandoned;
    {
      std::lock_guard lock(mutex_);
      abandoned = abandoned_;
    }
    if (!status.ok() && ctx_.cancelled()) status = ctx_.status();
    if (status.ok() && !terminal_seen_ && finish_ == FinishReason::none && !abandoned)
      status = {ErrorCode::backend,
                "the server closed the stream before it finished (no final event)"};
    GenerateMetrics final_metrics;
    {
      std::lock_guard lock(mutex_);
      if (!status.ok()) finish_ = reason_for(status);
      if (finish_ == FinishReason::none) finish_ = FinishReason::eos;
      final_metrics = metrics_locked();
    }
    // Recorded before the consumer can see the end, so model.metrics() read right after the
    // loop is this stream's.
    if (request_.on_finish && !abandoned) request_.on_finish(final_metrics, status);
    std::lock_guard lock(mutex_);
    end_status_ = status;
    ended_ = true;
    changed_.notify_all();
  }

  Context ctx_;
  Context stream_ctx_;  // cancelled by the consumer's context or by destroying the stream
  std::shared_ptr<EndpointSource> source_;
  StreamRequest request_;
  Clock::time_point start_;
  Status error_;  // producer thread only
  bool terminal_seen_ = false;
  bool limit_reached_ = false;  // max_tokens emitted: later tokens are dropped
  int events_past_limit_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Token> queue_;
  bool ended_ = false;
  bool accepted_ = false;
  bool abandoned_ = false;
  bool consumer_done_ = false;
  Status end_status_;
  Status consumer_status_;
  ServerUsage usage_;
  int64_t emitted_ = 0;
  std::optional<Clock::time_point> first_token_;
  std::optional<Clock::time_point> last_token_;
  FinishReason finish_ = FinishReason::none;

  CallbackRegistration wake_;
  std::thread thread_;
};

}  // namespace

TokenStream start_remote_stream(const Context& ctx, std::shared_ptr<EndpointSource> source,
                                StreamRequest request) {
  auto stream = std::make_unique<RemoteTokenSource>(ctx, std::move(source), std::move(request));
  if (Status refused = stream->wait_accepted(); !refused.ok()) return TokenStream(refused);
  return TokenStream(std::move(stream));
}

}  // namespace inference::remote
