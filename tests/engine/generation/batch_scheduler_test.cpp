// The BatchScheduler over a scripted fake engine: shared forward passes, chunked prefill beside
// running decodes, per-sequence cancellation, the FIFO queue with deadlines and max_queued,
// finish reasons, metrics, logit_bias and output constraints.
#include "engine/generation/batch_scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <latch>
#include <limits>
#include <thread>

#include "engine/generation/prefill.hpp"
#include "fake_engine.hpp"

namespace inference::generation {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kPieces = {"<eos>", "a", "b", " ST", "OP", "\xC3", "\xA9", "c"};

// The fake's next token is always `id` (unless a sequence is biased or constrained).
test::FakeEngine::NextToken always(int32_t id) {
  return [id](std::span<const int32_t>) { return id; };
}

struct Fixture {
  explicit Fixture(test::FakeEngine::NextToken next, int32_t slots, SchedulerOptions options = {},
                   int32_t ctx_len = 4096) {
    auto engine = std::make_unique<test::FakeEngine>(kPieces, std::move(next), slots, ctx_len);
    fake = engine.get();
    sched = std::make_shared<BatchScheduler>(std::move(engine), options);
  }
  TokenStream generate(std::vector<int32_t> prompt, const GenerateConfig& config,
                       Context ctx = Context::background()) {
    return sched->generate(std::move(prompt), config, ctx);
  }
  ServingState state() const { return sched->serving_state(); }
  test::FakeEngine* fake = nullptr;
  std::shared_ptr<BatchScheduler> sched;
};

size_t drain(TokenStream& stream) {
  size_t n = 0;
  Token t;
  while (stream.next(t)) ++n;
  return n;
}

TEST(BatchScheduler, ConcurrentStreamsShareForwardPasses) {
  Fixture f(always(1), 4);
  std::vector<TokenStream> streams;
  for (int i = 0; i < 4; ++i)
    streams.push_back(f.generate({2, 2, static_cast<int32_t>(i + 1)}, {.max_tokens = 5}));
  std::vector<size_t> counts(4, 0);
  bool more = true;
  while (more) {
    more = false;
    for (size_t i = 0; i < streams.size(); ++i) {
      Token t;
      if (streams[i].next(t)) {
        ++counts[i];
        more = true;
      }
    }
  }
  EXPECT_EQ(counts, (std::vector<size_t>{5, 5, 5, 5}));
  // One pass prefills all four prompts, then each pass decodes all four: 1 + 4, not 4 × 5.
  EXPECT_EQ(f.fake->decode_calls, 5);
  EXPECT_EQ(f.fake->batch_sizes.front(), 12u);
  EXPECT_EQ(f.fake->batch_sizes.back(), 4u);
}

TEST(BatchScheduler, ALongPromptIsChunkedBesideRunningStreams) {
  Fixture f(always(1), 2);
  auto running = f.generate({2}, {.max_tokens = 100});
  Token t;
  ASSERT_TRUE(running.next(t));
  std::vector<int32_t> long_prompt(3 * kPrefillChunk, 2);
  auto late = f.generate(long_prompt, {.max_tokens = 1});
  const size_t calls_before = f.fake->batch_sizes.size();
  // Pulling only the running stream drives the other's prefill too, a small chunk per step.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(running.next(t));
  for (size_t i = calls_before; i < f.fake->batch_sizes.size(); ++i)
    EXPECT_LE(f.fake->batch_sizes[i], 1 + kPrefillChunkWhileDecoding);
  EXPECT_EQ(drain(late), 1u);
  EXPECT_EQ(late.metrics().prompt_tokens, static_cast<int64_t>(long_prompt.size()));
}

TEST(BatchScheduler, CancellingOneStreamMidDecodeFreesItsSlotWithinAStep) {
  Fixture f(always(1), 2);
  auto ctx = Context::background().with_cancel();
  auto victim = f.generate({2}, {.max_tokens = 100}, ctx);
  auto other = f.generate({2, 2}, {.max_tokens = 10});
  Token t;
  ASSERT_TRUE(victim.next(t));
  ASSERT_TRUE(other.next(t));
  EXPECT_EQ(f.state().active, 2);
  ctx.cancel();
  ASSERT_TRUE(other.next(t));  // the next step leaves the victim out and frees its slot
  EXPECT_EQ(f.state().active, 1);
  EXPECT_EQ(drain(other), 8u);
  EXPECT_FALSE(victim.next(t));
  EXPECT_EQ(victim.err().code, ErrorCode::cancelled);
  EXPECT_EQ(victim.finish_reason(), FinishReason::cancelled);
  EXPECT_EQ(other.finish_reason(), FinishReason::length);
}

TEST(BatchScheduler, CancellingOneStreamMidPrefillFreesItsSlot) {
  Fixture f(always(1), 2);
  auto ctx = Context::background().with_cancel();
  std::vector<int32_t> long_prompt(4 * kPrefillChunk, 2);
  auto victim = f.generate(long_prompt, {}, ctx);
  auto other = f.generate({2}, {.max_tokens = 20});
  f.fake->on_decode = [&] {
    if (f.fake->decode_calls == 2) ctx.cancel();  // during the victim's second chunk
  };
  EXPECT_EQ(drain(other), 20u);
  const auto s = f.state();
  EXPECT_EQ(s.active, 0);
  EXPECT_FALSE(s.slots[0].is_processing);
  EXPECT_FALSE(s.slots[1].is_processing);
  // The victim's prefill stopped after the step it was cancelled in.
  EXPECT_LT(f.fake->decoded_entries, static_cast<int64_t>(long_prompt.size()));
  Token t;
  EXPECT_FALSE(victim.next(t));
  EXPECT_EQ(victim.err().code, ErrorCode::cancelled);
}

TEST(BatchScheduler, AQueuedCallRunsWhenASlotFrees) {
  Fixture f(always(1), 1);
  auto first = f.generate({2}, {.max_tokens = 100});
  Token t;
  ASSERT_TRUE(first.next(t));
  size_t got = 0;
  std::thread waiter([&] {
    auto second = f.generate({2}, {.max_tokens = 3});
    got = drain(second);
  });
  while (f.state().queued == 0) std::this_thread::sleep_for(1ms);
  first.close();  // frees the slot: the queued call is admitted
  waiter.join();
  EXPECT_EQ(got, 3u);
}

TEST(BatchScheduler, AQueuedCallEndsAtItsDeadline) {
  Fixture f(always(1), 1);
  auto first = f.generate({2}, {.max_tokens = 100});
  Token t;
  ASSERT_TRUE(first.next(t));
  auto second = f.generate({2}, {}, Context::background().with_timeout(20ms));
  EXPECT_FALSE(second.next(t));
  EXPECT_EQ(second.err().code, ErrorCode::deadline_exceeded);
  EXPECT_EQ(second.finish_reason(), FinishReason::deadline);
  EXPECT_EQ(f.state().queued, 0);
  EXPECT_TRUE(first.next(t));  // the running stream is unaffected
}

TEST(BatchScheduler, FinishReasons) {
  {
    Fixture f([](std::span<const int32_t> s) { return s.size() < 3 ? 1 : 0; }, 1);
    auto s = f.generate({2}, {});
    drain(s);
    EXPECT_EQ(s.finish_reason(), FinishReason::eos);
  }
  {
    Fixture f(always(7), 1);
    auto s = f.generate({2}, {.stop_tokens = {7}});
    drain(s);
    EXPECT_EQ(s.finish_reason(), FinishReason::stop_token);
    auto stop = f.generate({2}, {.stop = {"cc"}});
    drain(stop);
    EXPECT_EQ(stop.finish_reason(), FinishReason::stop);
    auto len = f.generate({2}, {.max_tokens = 2});
    drain(len);
    EXPECT_EQ(len.finish_reason(), FinishReason::length);
    auto early = f.generate({2}, {});
    Token t;
    ASSERT_TRUE(early.next(t));
    early.close();
    EXPECT_EQ(early.finish_reason(), FinishReason::cancelled);
    EXPECT_TRUE(early.err().ok());
  }
}

TEST(BatchScheduler, MetricsDescribeEachStream) {
  Fixture f(always(1), 2);
  auto first = f.generate({2, 2, 2, 2}, {.max_tokens = 3});
  drain(first);
  auto again = f.generate({2, 2, 2, 2, 1, 1}, {.max_tokens = 5});
  drain(again);
  const GenerateMetrics m = again.metrics();
  EXPECT_EQ(m.prompt_tokens, 6);
  EXPECT_EQ(m.generated_tokens, 5);
  EXPECT_EQ(m.cached_prompt_tokens, 5);  // the first call's 4 prompt tokens + 1 generated
  EXPECT_GT(m.time_to_first_token.count(), 0);
  EXPECT_GT(m.decode_duration.count(), 0);
  EXPECT_GT(m.decode_tokens_per_second, 0.0);
  EXPECT_EQ(m.finish_reason, FinishReason::length);
  EXPECT_GT(m.peak_memory_bytes, 0u);
  EXPECT_EQ(f.sched->last_metrics().generated_tokens, 5);  // TextModel::metrics(): last finished
}

TEST(BatchScheduler, LogitBiasShiftsTheChoiceAndBadIdsAreNamed) {
  Fixture f(always(1), 1);
  auto s = f.generate({2}, {.max_tokens = 3, .logit_bias = {{2, 20.0f}}});
  std::string text;
  for (const Token& t : s) text += t.text;
  EXPECT_EQ(text, "bbb");
  auto bad = f.generate({2}, {.logit_bias = {{99, 1.0f}}});
  EXPECT_EQ(bad.err().code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.err().message.find("99"), std::string::npos) << bad.err().message;
}

// Allows exactly the tokens of `script` in order; complete after all of them; exhausted then.
class ScriptConstraint final : public TokenConstraint {
 public:
  explicit ScriptConstraint(std::vector<int32_t> script) : script_(std::move(script)) {}
  void mask(std::span<float> logits) override {
    for (size_t id = 0; id < logits.size(); ++id) {
      const bool allowed = next_ < script_.size() ? static_cast<int32_t>(id) == script_[next_]
                                                  : id == 0;  // only EOS once complete
      if (!allowed) logits[id] = -std::numeric_limits<float>::infinity();
    }
  }
  void accept(int32_t id) override {
    ASSERT_LT(next_, script_.size());
    ASSERT_EQ(id, script_[next_]);
    ++next_;
  }
  bool complete() const override { return next_ == script_.size(); }
  bool exhausted() const override { return exhausted_when_complete && complete(); }
  bool exhausted_when_complete = true;

 private:
  std::vector<int32_t> script_;
  size_t next_ = 0;
};

TEST(BatchScheduler, AConstraintMasksEveryStepAndEndsWhenExhausted) {
  SchedulerOptions options;
  options.make_constraint = [](const OutputConstraint& c, const tokenizer::Tokenizer&) {
    auto constraint = std::make_unique<ScriptConstraint>(std::vector<int32_t>{2, 7, 2});
    constraint->exhausted_when_complete = c.source == "exhaust";
    return constraint;
  };
  Fixture f(always(1), 1, options);
  GenerateConfig config{.max_tokens = 10};
  config.constraint = {OutputConstraint::Kind::regex, "exhaust"};
  auto s = f.generate({2}, config);
  std::vector<int32_t> ids;
  for (const Token& t : s) ids.push_back(t.id);
  EXPECT_EQ(ids, (std::vector<int32_t>{2, 7, 2}));
  EXPECT_EQ(s.finish_reason(), FinishReason::eos);
  // Not exhausted: once complete, only EOS is allowed, which ends the stream.
  config.constraint.source = "eos";
  auto t = f.generate({2}, config);
  ids.clear();
  for (const Token& tok : t) ids.push_back(tok.id);
  EXPECT_EQ(ids, (std::vector<int32_t>{2, 7, 2}));
  EXPECT_EQ(t.finish_reason(), FinishReason::eos);
}

TEST(BatchScheduler, EightStreamsFromEightThreads) {
  Fixture f([](std::span<const int32_t> s) { return s.back() == 7 ? 1 : s.back() + 1; }, 8);
  std::vector<std::vector<int32_t>> got(8);
  std::vector<std::thread> threads;
  std::latch all_submitted(8);  // so that the eight sequences are admitted together
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto s = f.generate({i % 7 + 1}, {.max_tokens = 20});
      all_submitted.arrive_and_wait();
      for (const Token& t : s) got[static_cast<size_t>(i)].push_back(t.id);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(got[static_cast<size_t>(i)].size(), 20u);
    int32_t prev = i % 7 + 1;
    for (int32_t id : got[static_cast<size_t>(i)]) {
      EXPECT_EQ(id, prev == 7 ? 1 : prev + 1);
      prev = id;
    }
  }
  EXPECT_EQ(f.state().active, 0);
  // Shared passes: far fewer than 8 × 20.
  EXPECT_LT(f.fake->decode_calls, 8 * 20);
}

TEST(BatchScheduler, ADriverThreadCanRunTheSteps) {
  Fixture f(always(1), 2);
  auto s = f.generate({2}, {.max_tokens = 3});
  int steps = 0;
  while (f.sched->drive_once()) ++steps;  // runs until the stream is kMaxReadAhead ahead/done
  EXPECT_EQ(steps, 3);
  EXPECT_EQ(drain(s), 3u);
}

}  // namespace
}  // namespace inference::generation
