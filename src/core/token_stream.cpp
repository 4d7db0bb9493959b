#include "inference/token_stream.hpp"

#include <exception>
#include <new>

namespace inference {

namespace {

FinishReason reason_for(const Status& status) noexcept {
  switch (status.code) {
    case ErrorCode::ok:
      return FinishReason::cancelled;  // the consumer stopped early
    case ErrorCode::cancelled:
      return FinishReason::cancelled;
    case ErrorCode::deadline_exceeded:
      return FinishReason::deadline;
    default:
      return FinishReason::error;
  }
}

}  // namespace

TokenStream::TokenStream(Status status) : status_(std::move(status)), done_(true) {
  if (!status_.ok()) metrics_.finish_reason = reason_for(status_);
}

TokenStream::TokenStream(std::unique_ptr<TokenSource> source)
    : source_(std::move(source)), done_(source_ == nullptr) {}

TokenStream::TokenStream(TokenStream&& other) noexcept
    : source_(std::move(other.source_)),
      current_(std::move(other.current_)),
      status_(std::move(other.status_)),
      metrics_(other.metrics_),
      done_(other.done_) {
  other.done_ = true;
}

TokenStream& TokenStream::operator=(TokenStream&& other) noexcept {
  if (this != &other) {
    close();
    source_ = std::move(other.source_);
    current_ = std::move(other.current_);
    status_ = std::move(other.status_);
    metrics_ = other.metrics_;
    done_ = other.done_;
    other.done_ = true;
  }
  return *this;
}

TokenStream::~TokenStream() {
  close();
}

GenerateMetrics TokenStream::metrics() const {
  if (!source_) return metrics_;
  try {
    return source_->metrics();
  } catch (...) {
    return metrics_;
  }
}

void TokenStream::close() noexcept {
  done_ = true;
  if (source_) {
    try {
      metrics_ = source_->metrics();
    } catch (...) {
    }
    if (metrics_.finish_reason == FinishReason::none) metrics_.finish_reason = reason_for(status_);
  }
  source_.reset();  // the source's destructor releases its slot, threads and sockets
}

bool TokenStream::advance() {
  if (done_) return false;
  try {
    current_ = Token{};
    if (source_->next(current_)) return true;
    status_ = source_->status();
  } catch (const Error& e) {
    status_ = e.status();
  } catch (const std::bad_alloc&) {
    status_ = {ErrorCode::out_of_memory, "out of memory while generating"};
  } catch (const std::exception& e) {
    status_ = {ErrorCode::backend, e.what()};
  } catch (...) {
    status_ = {ErrorCode::backend, "unknown error while generating"};
  }
  close();
  return false;
}

bool TokenStream::next(Token& out) {
  if (!advance()) return false;
  out = current_;
  return true;
}

TokenStream::iterator TokenStream::begin() {
  advance();
  return iterator(this);
}

TokenStream::iterator& TokenStream::iterator::operator=(iterator&& other) noexcept {
  if (this != &other) {
    if (stream_ && !stream_->done_) stream_->close();
    stream_ = other.stream_;
    other.stream_ = nullptr;
  }
  return *this;
}

TokenStream::iterator::~iterator() {
  // Leaving a range-for before the end destroys the iterator: stop the producer now, even if
  // the stream object itself lives on so that err() can be read.
  if (stream_ && !stream_->done_) stream_->close();
}

TokenStream::iterator& TokenStream::iterator::operator++() {
  stream_->advance();
  return *this;
}

}  // namespace inference
