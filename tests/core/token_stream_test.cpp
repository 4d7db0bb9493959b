#include <gtest/gtest.h>

#include <ranges>
#include <thread>

#include "inference/text_model.hpp"
#include "support/recording_backend.hpp"

using namespace inference;
using inference::test::RecordingBackend;

namespace {

std::unique_ptr<TextModel> script_model(RecordingBackend& backend) {
  return backend.load_model("/m", {});
}

}  // namespace

TEST(TokenStream, IsAnInputRange) {
  static_assert(std::ranges::input_range<TokenStream>);
}

TEST(TokenStream, IteratesAllTokensThenOk) {
  RecordingBackend backend("t", true, {"Hel", "lo", "!"});
  auto model = script_model(backend);
  std::string text;
  auto stream = model->generate(Context::background(), "x");
  for (const Token& t : stream) text += t.text;
  EXPECT_EQ(text, "Hello!");
  EXPECT_TRUE(stream.err().ok());
  EXPECT_TRUE(stream.done());
  EXPECT_EQ(backend.record()->released.load(), 1);
}

TEST(TokenStream, PullingDrivesGeneration) {
  RecordingBackend backend("t", true, {"a", "b", "c", "d"});
  auto model = script_model(backend);
  auto stream = model->generate(Context::background(), "x");
  EXPECT_EQ(backend.record()->produced.load(), 0);  // nothing before the first pull
  Token t;
  ASSERT_TRUE(stream.next(t));
  EXPECT_EQ(t.text, "a");
  EXPECT_EQ(backend.record()->produced.load(), 1);
}

TEST(TokenStream, BreakingOutOfTheLoopReleasesTheProducer) {
  RecordingBackend backend("t", true, {"a", "b", "c", "d", "e"});
  auto model = script_model(backend);
  auto record = backend.record();
  auto stream = model->generate(Context::background(), "x");
  for (const Token& t : stream) {
    if (t.text == "b") break;
  }
  // The stream object still lives, but its producer is gone and no more tokens were made.
  EXPECT_EQ(record->released.load(), 1);
  EXPECT_EQ(record->produced.load(), 2);
  EXPECT_TRUE(stream.done());
  EXPECT_TRUE(stream.err().ok());
}

TEST(TokenStream, TemporaryStreamReleasedAfterRangeFor) {
  RecordingBackend backend("t", true, {"a", "b", "c"});
  auto model = script_model(backend);
  for (const Token& t : model->generate(Context::background(), "x")) {
    (void)t;
    break;
  }
  EXPECT_EQ(backend.record()->opened.load(), 1);
  EXPECT_EQ(backend.record()->released.load(), 1);
}

TEST(TokenStream, ExceptionInLoopBodyReleasesProducer) {
  RecordingBackend backend("t", true, {"a", "b", "c"});
  auto model = script_model(backend);
  auto stream = model->generate(Context::background(), "x");
  EXPECT_THROW(
      {
        for (const Token& t : stream) {
          if (t.text == "a") throw std::runtime_error("consumer failed");
        }
      },
      std::runtime_error);
  EXPECT_EQ(backend.record()->released.load(), 1);
}

TEST(TokenStream, CancelEndsWithCancelledNotOk) {
  RecordingBackend backend("t", true, {"a", "b", "c", "d"});
  auto model = script_model(backend);
  auto ctx = Context::background().with_cancel();
  auto stream = model->generate(ctx, "x");
  int n = 0;
  for (const Token& t : stream) {
    (void)t;
    if (++n == 2) ctx.cancel();
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);
  EXPECT_EQ(backend.record()->released.load(), 1);
}

TEST(TokenStream, CancelFromAnotherThreadStopsSlowProducer) {
  RecordingBackend backend("t", true, std::vector<std::string>(500, "~"));
  auto model = script_model(backend);
  auto ctx = Context::background().with_cancel();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    ctx.cancel();
  });
  auto stream = model->generate(ctx, "x");
  int n = 0;
  for (const Token& t : stream) {
    (void)t;
    ++n;
  }
  canceller.join();
  EXPECT_LT(n, 500);
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);
}

TEST(TokenStream, DeadlineEndsWithDeadlineExceeded) {
  RecordingBackend backend("t", true, std::vector<std::string>(500, "~"));
  auto model = script_model(backend);
  auto stream =
      model->generate(Context::background().with_timeout(std::chrono::milliseconds(50)), "x");
  for (const Token& t : stream) (void)t;
  EXPECT_EQ(stream.err().code, ErrorCode::deadline_exceeded);
}

TEST(TokenStream, BackendErrorEndsStream) {
  RecordingBackend backend("t", true, {"a", "!error", "b"});
  auto model = script_model(backend);
  auto stream = model->generate(Context::background(), "x");
  std::string text;
  for (const Token& t : stream) text += t.text;
  EXPECT_EQ(text, "a");
  EXPECT_EQ(stream.err().code, ErrorCode::backend);
}

TEST(TokenStream, MaxTokensIsANormalEnd) {
  RecordingBackend backend("t", true, {"a", "b", "c"});
  auto model = script_model(backend);
  auto stream = model->generate(Context::background(), "x", {.max_tokens = 2});
  int n = 0;
  for (const Token& t : stream) {
    (void)t;
    ++n;
  }
  EXPECT_EQ(n, 2);
  EXPECT_TRUE(stream.err().ok());
}

namespace {
class ThrowingSource : public TokenSource {
 public:
  bool next(Token&) override { throw std::runtime_error("kaboom"); }
  Status status() const override { return {}; }
};
}  // namespace

TEST(TokenStream, ExceptionsFromProducerBecomeStatus) {
  TokenStream stream(std::make_unique<ThrowingSource>());
  int n = 0;
  EXPECT_NO_THROW(for (const Token& t
                       : stream) {
    (void)t;
    ++n;
  });
  EXPECT_EQ(n, 0);
  EXPECT_EQ(stream.err().code, ErrorCode::backend);
  EXPECT_EQ(stream.err().message, "kaboom");
}

TEST(TokenStream, FailedStreamYieldsNothing) {
  TokenStream stream(Status{ErrorCode::invalid_argument, "bad prompt"});
  for (const Token& t : stream) ADD_FAILURE() << t.text;
  EXPECT_EQ(stream.err().code, ErrorCode::invalid_argument);
}

TEST(TokenStream, MovedStreamKeepsProducer) {
  RecordingBackend backend("t", true, {"a", "b"});
  auto model = script_model(backend);
  auto first = model->generate(Context::background(), "x");
  TokenStream second = std::move(first);
  EXPECT_TRUE(first.done());
  std::string text;
  for (const Token& t : second) text += t.text;
  EXPECT_EQ(text, "ab");
  EXPECT_EQ(backend.record()->released.load(), 1);
}

TEST(TokenStream, FinishReasonSaysWhyItEnded) {
  RecordingBackend backend("t", true, {"a", "b", "c"});
  auto model = script_model(backend);
  {
    auto stream = model->generate(Context::background(), "x");
    for (const Token& t : stream) {
      EXPECT_EQ(stream.finish_reason(), FinishReason::none);  // still running
      if (t.text == "b") break;
    }
    EXPECT_EQ(stream.finish_reason(), FinishReason::cancelled);  // the consumer left early
    EXPECT_TRUE(stream.err().ok());
  }
  {
    auto ctx = Context::background().with_cancel();
    auto stream = model->generate(ctx, "x");
    for (const Token& t : stream) {
      (void)t;
      ctx.cancel();
    }
    EXPECT_EQ(stream.finish_reason(), FinishReason::cancelled);
  }
  {
    RecordingBackend failing("t", true, {"a", "!error"});
    auto failing_model = script_model(failing);
    auto stream = failing_model->generate(Context::background(), "x");
    for (const Token& t : stream) (void)t;
    EXPECT_EQ(stream.finish_reason(), FinishReason::error);
  }
  {
    auto stream =
        model->generate(Context::background().with_timeout(std::chrono::nanoseconds(1)), "x");
    for (const Token& t : stream) (void)t;
    EXPECT_EQ(stream.finish_reason(), FinishReason::deadline);
  }
  EXPECT_EQ(TokenStream(Status{ErrorCode::backend, "x"}).finish_reason(), FinishReason::error);
}
