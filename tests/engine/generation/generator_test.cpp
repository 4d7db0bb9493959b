// The single-stream behaviour of scheduled generation (stop handling, text assembly, slots,
// cancellation, prefix reuse) over a scripted fake engine.
#include "engine/generation/batch_scheduler.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "engine/generation/prefill.hpp"
#include "fake_engine.hpp"
#include "inference/token_stream.hpp"

namespace inference::generation {
namespace {

// Vocabulary of the fake engine: 0 is end-of-generation.
const std::vector<std::string> kPieces = {"<eos>", "a", "b", " ST", "OP", "\xC3", "\xA9", "c"};

struct Fixture {
  explicit Fixture(test::FakeEngine::NextToken next, int32_t slots = 1, int32_t ctx_len = 1024,
                   SchedulerOptions options = {}) {
    auto engine = std::make_unique<test::FakeEngine>(kPieces, std::move(next), slots, ctx_len);
    fake = engine.get();
    sched = std::make_shared<BatchScheduler>(std::move(engine), options);
  }
  TokenStream generate(std::vector<int32_t> prompt, const GenerateConfig& config,
                       Context ctx = Context::background()) {
    // submit() throws for invalid prompts, as the tests below expect.
    return sched->stream(sched->submit(std::move(prompt), config, ctx));
  }
  bool slot_busy(size_t i) { return sched->serving_state().slots.at(i).is_processing; }
  GenerateMetrics last() { return sched->last_metrics(); }
  test::FakeEngine* fake = nullptr;
  std::shared_ptr<BatchScheduler> sched;
};

// Emits the script, then end-of-generation.
test::FakeEngine::NextToken script(std::vector<int32_t> tokens, size_t prompt_len) {
  return [tokens, prompt_len](std::span<const int32_t> seq) {
    const size_t i = seq.size() - prompt_len;
    return i < tokens.size() ? tokens[i] : 0;
  };
}

std::pair<std::vector<int32_t>, std::string> collect(TokenStream& stream) {
  std::vector<int32_t> ids;
  std::string text;
  for (const Token& t : stream) {
    ids.push_back(t.id);
    text += t.text;
  }
  return {ids, text};
}

TEST(Generator, StopsAtEndOfGenerationWithoutEmittingIt) {
  Fixture f(script({1, 2, 7}, 2));
  auto stream = f.generate({1, 2}, {});
  auto [ids, text] = collect(stream);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 2, 7}));
  EXPECT_EQ(text, "abc");
  EXPECT_TRUE(stream.err().ok());
  EXPECT_EQ(f.last().generated_tokens, 3);
  EXPECT_EQ(f.last().prompt_tokens, 2);
}

TEST(Generator, IgnoreEosKeepsGoingUntilMaxTokens) {
  Fixture f(script({1}, 1));
  auto stream = f.generate({1}, {.max_tokens = 4, .ignore_eos = true});
  auto [ids, text] = collect(stream);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 0, 0, 0}));
}

TEST(Generator, MaxTokensEndsTheStream) {
  Fixture f([](std::span<const int32_t>) { return 1; });
  auto stream = f.generate({2}, {.max_tokens = 5});
  auto [ids, text] = collect(stream);
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(text, "aaaaa");
  EXPECT_TRUE(stream.err().ok());
}

TEST(Generator, StopTokensEndTheStream) {
  Fixture f(script({1, 2, 7, 1}, 1));
  auto stream = f.generate({1}, {.stop_tokens = {7}});
  auto [ids, text] = collect(stream);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 2}));
}

TEST(Generator, StopStringAcrossTokensIsNotEmitted) {
  Fixture f(script({1, 3, 4, 2}, 1));  // "a" " ST" "OP" "b"
  auto stream = f.generate({1}, {.stop = {"STOP"}});
  auto [ids, text] = collect(stream);
  EXPECT_EQ(text, "a ");
  EXPECT_TRUE(stream.err().ok());
}

TEST(Generator, HeldBackTextIsFlushedAtTheEnd) {
  Fixture f(script({1, 3}, 1));  // "a" " ST" then end: " ST" might have begun "STOP"
  auto stream = f.generate({1}, {.stop = {"STOP"}});
  auto [ids, text] = collect(stream);
  EXPECT_EQ(text, "a ST");
  EXPECT_EQ(ids.back(), -1);  // the flush piece carries no token
}

TEST(Generator, MultiByteCharactersAreNeverSplit) {
  Fixture f(script({5, 6, 1}, 1));
  auto stream = f.generate({1}, {});
  std::vector<std::string> pieces;
  for (const Token& t : stream) pieces.push_back(t.text);
  EXPECT_EQ(pieces, (std::vector<std::string>{"", "\xC3\xA9", "a"}));
}

TEST(Generator, LeavingTheLoopEarlyFreesTheSlot) {
  Fixture f([](std::span<const int32_t>) { return 1; });
  {
    auto stream = f.generate({2}, {});
    for (const Token& t : stream) {
      (void)t;
      break;
    }
    EXPECT_FALSE(f.slot_busy(0));  // the iterator closed the stream
    EXPECT_TRUE(stream.err().ok());
  }
  auto again = f.generate({2}, {.max_tokens = 1});
  EXPECT_EQ(collect(again).first.size(), 1u);
}

TEST(Generator, BeyondMaxQueuedAClearErrorAtOnce) {
  Fixture f([](std::span<const int32_t>) { return 1; }, 1, 1024, {.max_queued = 1});
  auto first = f.generate({2}, {});
  Token t;
  ASSERT_TRUE(first.next(t));         // holds the only slot
  auto second = f.generate({2}, {});  // waits (one queued is allowed)
  auto third = f.sched->generate({2}, {}, Context::background());
  EXPECT_TRUE(third.done());
  EXPECT_EQ(third.err().code, ErrorCode::unavailable);
  EXPECT_NE(third.err().message.find("max_queued 1"), std::string::npos) << third.err().message;
  EXPECT_EQ(f.sched->serving_state().queued, 1);
}

TEST(Generator, CancellationInsideALongPrefillStopsBetweenChunks) {
  Fixture f([](std::span<const int32_t>) { return 1; });
  auto ctx = Context::background().with_cancel();
  // The fake engine ignores the context here, so only the generator's own check between
  // prefill chunks can stop it: exactly one chunk is evaluated.
  f.fake->check_context = false;
  f.fake->on_decode = [&] { ctx.cancel(); };  // "Ctrl-C" during the first chunk
  std::vector<int32_t> prompt(3 * kPrefillChunk, 1);
  auto stream = f.generate(prompt, {}, ctx);
  auto [ids, text] = collect(stream);
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);
  EXPECT_EQ(f.fake->decoded_entries, static_cast<int64_t>(kPrefillChunk));
  EXPECT_FALSE(f.slot_busy(0));
}

TEST(Generator, CancellationBetweenTokensEndsTheStream) {
  Fixture f([](std::span<const int32_t>) { return 1; });
  auto ctx = Context::background().with_cancel();
  auto stream = f.generate({2}, {}, ctx);
  int n = 0;
  for (const Token& t : stream) {
    (void)t;
    if (++n == 3) ctx.cancel();
  }
  EXPECT_EQ(n, 3);
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);
}

TEST(Generator, ReusesTheCachedPrefixOfItsSlot) {
  Fixture f(script({1, 2}, 0));
  auto first = f.generate({7, 7, 7, 7}, {.max_tokens = 1});
  collect(first);
  const int64_t before = f.fake->decoded_entries;
  auto second = f.generate({7, 7, 7, 7, 2}, {.max_tokens = 1});
  collect(second);
  EXPECT_EQ(f.fake->decoded_entries - before, 1);  // only the new token was evaluated
}

TEST(Generator, ANewPromptTakesTheEmptiestSlotAndKeepsOtherCaches) {
  Fixture f([](std::span<const int32_t>) { return 1; }, 2);
  {
    auto first = f.generate({7, 7, 7}, {.max_tokens = 1});
    collect(first);
  }
  Token t;
  auto other = f.generate({2, 2}, {.max_tokens = 3});
  ASSERT_TRUE(other.next(t));
  EXPECT_EQ(other.metrics().cached_prompt_tokens, 0);  // the empty slot, not the cached one
  auto reuse = f.generate({7, 7, 7, 1}, {.max_tokens = 3});
  ASSERT_TRUE(reuse.next(t));
  EXPECT_EQ(reuse.metrics().cached_prompt_tokens, 3);
}

TEST(Generator, PromptLongerThanTheContextIsAnError) {
  Fixture f([](std::span<const int32_t>) { return 1; }, 1, 8);
  EXPECT_THROW(f.generate(std::vector<int32_t>(8, 1), {}), Error);
  EXPECT_THROW(f.generate({}, {}), Error);
  EXPECT_THROW(f.generate({99}, {}), Error);
}

TEST(Generator, AFullContextEndsTheStreamNormally) {
  Fixture f([](std::span<const int32_t>) { return 1; }, 1, 8);
  auto stream = f.generate({2, 2, 2}, {});
  auto [ids, text] = collect(stream);
  EXPECT_EQ(ids.size(), 5u);  // 3 prompt + 5 generated = 8 cells
  EXPECT_TRUE(stream.err().ok());
}

TEST(Generator, LogprobsAreAttachedWhenAsked) {
  Fixture f(script({1}, 1));
  auto stream = f.generate({1}, {.logprobs = 2});
  Token t;
  ASSERT_TRUE(stream.next(t));
  ASSERT_TRUE(t.logprob.has_value());
  ASSERT_EQ(t.top_logprobs.size(), 2u);
  EXPECT_EQ(t.top_logprobs[0].id, 1);
  EXPECT_EQ(t.top_logprobs[0].text, "a");
  EXPECT_FLOAT_EQ(*t.logprob, t.top_logprobs[0].logprob);
}

TEST(Generator, AClosedModelEndsOpenStreamsWithUnavailable) {
  Fixture f([](std::span<const int32_t>) { return 1; });
  auto stream = f.generate({2}, {});
  Token t;
  ASSERT_TRUE(stream.next(t));
  f.sched->close();
  EXPECT_FALSE(stream.next(t));
  EXPECT_EQ(stream.err().code, ErrorCode::unavailable);
}

}  // namespace
}  // namespace inference::generation
