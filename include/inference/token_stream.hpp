// inference/token_stream.hpp — a stream of generated tokens, consumed as an input range.
//
//   auto stream = model.generate(ctx, "Hello", {.max_tokens = 64});
//   for (const Token& t : stream) std::cout << t.text;
//   if (stream.err()) std::cerr << stream.err().message;
//
// Pulling drives generation: no token is computed before it is asked for. Leaving the loop
// early (break, return, exception in the loop body) closes the stream: the producer stops and
// releases what it holds (its sequence slot, threads, sockets). Iteration never throws; when the
// stream ends, err() says why (ok on end-of-sequence, stop or max_tokens; cancelled; deadline;
// backend error). A TokenStream is move-only and not thread-safe: one consumer at a time.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>

#include "inference/error.hpp"
#include "inference/types.hpp"

namespace inference {

/// The producer behind a TokenStream; implemented by backends. Its destructor must release
/// everything the generation holds. next() is called from the consumer's thread only.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  /// Produces the next token into `out` and returns true, or returns false when generation has
  /// ended (then status() says why). May throw; TokenStream turns exceptions into a Status.
  virtual bool next(Token& out) = 0;
  /// Why generation ended; ok while running or after a normal end.
  virtual Status status() const = 0;
  /// This stream's own counts, durations and finish reason (final once next() returned
  /// false). Called before the source is destroyed; sources that cannot know return {}.
  virtual GenerateMetrics metrics() const { return {}; }
};

class TokenStream {
 public:
  struct sentinel {};

  /// Move-only input iterator. Destroying an iterator of an unfinished stream closes the
  /// stream: that is how leaving a range-for early stops the producer.
  class iterator {
   public:
    using value_type = Token;
    using difference_type = std::ptrdiff_t;
    using reference = const Token&;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    iterator(iterator&& other) noexcept : stream_(other.stream_) { other.stream_ = nullptr; }
    iterator& operator=(iterator&& other) noexcept;
    iterator(const iterator&) = delete;
    iterator& operator=(const iterator&) = delete;
    ~iterator();

    const Token& operator*() const { return stream_->current_; }
    const Token* operator->() const { return &stream_->current_; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, sentinel) {
      return !it.stream_ || it.stream_->done();
    }

   private:
    friend class TokenStream;
    explicit iterator(TokenStream* stream) : stream_(stream) {}
    TokenStream* stream_ = nullptr;
  };

  /// An empty stream that has already ended with `status` (ok by default).
  TokenStream() = default;
  explicit TokenStream(Status status);
  /// A stream pulling from `source`.
  explicit TokenStream(std::unique_ptr<TokenSource> source);

  TokenStream(TokenStream&&) noexcept;
  TokenStream& operator=(TokenStream&&) noexcept;
  TokenStream(const TokenStream&) = delete;
  TokenStream& operator=(const TokenStream&) = delete;
  /// Closes the stream (see close()).
  ~TokenStream();

  /// Pulls the first token. Call once; a second call continues where the first loop stopped
  /// only if the stream is still open.
  iterator begin();
  sentinel end() const { return {}; }

  /// Manual pulling: the next token into `out`, or false at the end (then see err()).
  bool next(Token& out);

  /// Stops generation and releases the producer. Idempotent. err() keeps the status it had
  /// (ok when the consumer stopped early of its own accord).
  void close() noexcept;

  /// True once the stream has ended or been closed.
  bool done() const noexcept { return done_; }
  /// Why the stream ended; ok while it runs and after a normal end.
  const Status& err() const noexcept { return status_; }
  /// This stream's metrics: counts and durations so far while it runs, final once it ended.
  /// With many concurrent streams, this (not TextModel::metrics()) is the figure to report.
  GenerateMetrics metrics() const;
  /// Why the stream ended (FinishReason::none while it runs). A consumer that closed the stream
  /// early sees `cancelled` with an ok err().
  FinishReason finish_reason() const noexcept { return metrics_.finish_reason; }

 private:
  bool advance();  // pulls into current_; false at end
  std::unique_ptr<TokenSource> source_;
  Token current_;
  Status status_;
  GenerateMetrics metrics_;  // snapshot taken when the source is released
  bool done_ = true;
};

static_assert(std::input_iterator<TokenStream::iterator>);
static_assert(std::sentinel_for<TokenStream::sentinel, TokenStream::iterator>);

}  // namespace inference
