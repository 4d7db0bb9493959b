// One conformance suite for every backend, written once against the TextModel contract and run
// per backend (see conformance_legs.hpp): the native engine is the reference; every other leg
// must give the same greedy text, stop the same way, never split a UTF-8 character, apply the
// model's chat template, cancel within one token, honour deadlines, report context overflow
// and per-item batch errors clearly, classify to the same argmax, close twice safely and fill
// its metrics.
#include <gtest/gtest.h>

#include <thread>

#include "backends/conformance_legs.hpp"
#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

constexpr int32_t kSmallContext = 64;
const std::string kPrompt = "The capital of France is";

std::string model_path() {
  return (testdata_dir() / "models" / "e2e" / "e2e-bpe-gpt2-Q8_0.gguf").string();
}

struct Output {
  std::string text;
  std::vector<Token> tokens;
  Status status;
  GenerateMetrics metrics;
};

Output drain(TokenStream stream) {
  Output o;
  for (const Token& t : stream) {
    o.text += t.text;
    o.tokens.push_back(t);
  }
  o.status = stream.err();
  o.metrics = stream.metrics();
  return o;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// Whether byte offset `at` of `s` lies strictly inside a well-formed multi-byte character.
bool inside_a_character(const std::string& s, size_t at) {
  size_t i = 0;
  while (i < s.size() && i < at) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool whole = n > 0 && i + n <= s.size();
    for (size_t k = 1; whole && k < n; ++k)
      whole = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!whole) n = 1;  // a byte that starts no character: step over it alone
    if (at > i && at < i + n) return true;
    i += n;
  }
  return false;
}

std::string long_prompt() {
  std::string p;
  for (int i = 0; i < 120; ++i) p += "word ";
  return p;
}

class Conformance : public ::testing::TestWithParam<ConformanceLeg> {
 protected:
  void SetUp() override {
    INFERENCE_REQUIRE_TESTDATA();
    if (auto why = leg_skip_reason(GetParam()); !why.empty()) GTEST_SKIP() << why;
  }
  std::shared_ptr<TextModel> model(int32_t ctx = 0) {
    return leg_model(GetParam(), model_path(), ctx);
  }
  std::shared_ptr<TextModel> native(int32_t ctx = 0) {
    return leg_model({"native"}, model_path(), ctx);
  }
};

TEST_P(Conformance, GreedyOutputEqualsTheNativeEngine) {
  GenerateConfig g{.max_tokens = 12};
  auto want = drain(native()->generate(Context::background(), kPrompt, g));
  auto got = drain(model()->generate(Context::background(), kPrompt, g));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, want.text);
  if (GetParam().reports_ids) {
    ASSERT_EQ(got.tokens.size(), want.tokens.size());
    for (size_t i = 0; i < got.tokens.size(); ++i) EXPECT_EQ(got.tokens[i].id, want.tokens[i].id);
  }
}

TEST_P(Conformance, MaxTokensAndMetrics) {
  auto got = drain(model()->generate(Context::background(), kPrompt, {.max_tokens = 3}));
  auto want = drain(native()->generate(Context::background(), kPrompt, {.max_tokens = 3}));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.metrics.generated_tokens, want.metrics.generated_tokens);
  EXPECT_EQ(got.metrics.finish_reason, want.metrics.finish_reason);
  EXPECT_GT(got.metrics.prompt_tokens, 0);
  EXPECT_GT(got.metrics.time_to_first_token.count(), 0);
  EXPECT_EQ(model()->metrics().generated_tokens, got.metrics.generated_tokens);
}

TEST_P(Conformance, StopStringsEndLikeNative) {
  auto full = drain(native()->generate(Context::background(), kPrompt, {.max_tokens = 12}));
  ASSERT_GE(full.tokens.size(), 4u);
  // A stop string from the middle of the greedy text: both must cut there.
  std::string stop = full.tokens[2].text + full.tokens[3].text;
  ASSERT_FALSE(stop.empty());
  GenerateConfig g{.max_tokens = 12, .stop = {stop}};
  auto want = drain(native()->generate(Context::background(), kPrompt, g));
  auto got = drain(model()->generate(Context::background(), kPrompt, g));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.text.find(stop), std::string::npos);
  if (GetParam().reports_ids) {
    EXPECT_EQ(got.metrics.finish_reason, FinishReason::stop);
  } else {
    // OpenAI's finish_reason "stop" covers both end-of-sequence and a stop string; only servers
    // that add vLLM's stop_reason let the client tell them apart.
    EXPECT_TRUE(got.metrics.finish_reason == FinishReason::stop ||
                got.metrics.finish_reason == FinishReason::eos);
  }
}

TEST_P(Conformance, StopTokensEndLikeNativeOrAreRefusedClearly) {
  auto full = drain(native()->generate(Context::background(), kPrompt, {.max_tokens = 8}));
  ASSERT_GE(full.tokens.size(), 3u);
  GenerateConfig g{.max_tokens = 8, .stop_tokens = {full.tokens[2].id}};
  auto want = drain(native()->generate(Context::background(), kPrompt, g));
  auto got = drain(model()->generate(Context::background(), kPrompt, g));
  if (!GetParam().reports_ids) {
    EXPECT_EQ(got.status.code, ErrorCode::unsupported) << got.status.message;
    return;
  }
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.metrics.finish_reason, FinishReason::stop_token);
}

TEST_P(Conformance, StreamedPiecesNeverSplitAUtf8Character) {
  auto got = drain(model()->generate(Context::background(), "Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC",
                                     {.max_tokens = 24, .temperature = 1.0f, .seed = 7}));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  // The model may itself emit bytes that are not UTF-8 (a random-weight model sampling byte
  // tokens); those pass through as they are. What must never happen is a piece boundary inside
  // a character: the boundaries of the pieces fall between the characters of the whole text.
  std::string all;
  std::vector<size_t> boundaries;
  for (const auto& t : got.tokens) {
    all += t.text;
    boundaries.push_back(all.size());
  }
  for (size_t at : boundaries) {
    EXPECT_FALSE(inside_a_character(all, at)) << "a piece ends inside a character at byte " << at;
  }
  if (valid_utf8(all)) {
    for (const auto& t : got.tokens) EXPECT_TRUE(valid_utf8(t.text)) << "piece: " << t.text;
  }
}

TEST_P(Conformance, ChatAppliesTheModelsTemplate) {
  std::vector<Message> messages = {{.role = "user", .content = "Hello there"}};
  auto want = drain(native()->chat(Context::background(), messages, {.max_tokens = 6}));
  auto got = drain(model()->chat(Context::background(), messages, {.max_tokens = 6}));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, want.text);
}

TEST_P(Conformance, CancellationMidDecodeEndsWithinOneTokenAndFreesTheSlot) {
  Context ctx = Context::background().with_cancel();
  auto stream = model()->generate(ctx, kPrompt, {.max_tokens = 200, .ignore_eos = true});
  Token t;
  ASSERT_TRUE(stream.next(t)) << stream.err().message;
  ctx.cancel();
  EXPECT_FALSE(stream.next(t));
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);
  EXPECT_EQ(stream.finish_reason(), FinishReason::cancelled);
  stream.close();
  // The slot is free again: the model serves the next request.
  EXPECT_TRUE(
      drain(model()->generate(Context::background(), kPrompt, {.max_tokens = 2})).status.ok());
}

TEST_P(Conformance, CancellationMidPrefillEndsAtOnce) {
  Context ctx = Context::background().with_cancel();
  auto stream = model()->generate(ctx, long_prompt(), {.max_tokens = 50});
  ctx.cancel();
  auto got = drain(std::move(stream));
  EXPECT_LE(got.tokens.size(), 1u);
  EXPECT_EQ(got.status.code, ErrorCode::cancelled);
}

TEST_P(Conformance, ADeadlineEndsTheStreamWithDeadlineStatus) {
  Context ctx = Context::background().with_timeout(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto got = drain(model()->generate(ctx, kPrompt, {.max_tokens = 50}));
  EXPECT_EQ(got.status.code, ErrorCode::deadline_exceeded);
  EXPECT_EQ(got.metrics.finish_reason, FinishReason::deadline);
}

TEST_P(Conformance, ContextOverflowIsAClearError) {
  auto got = drain(model(kSmallContext)->generate(Context::background(), long_prompt()));
  EXPECT_EQ(got.status.code, ErrorCode::invalid_argument) << got.status.message;
  EXPECT_NE(got.status.message.find("context"), std::string::npos) << got.status.message;
}

TEST_P(Conformance, ClassifyArgmaxEqualsNative) {
  std::vector<std::string> prompts = {kPrompt, "Hello, my name is"};
  auto want = native()->classify(Context::background(), prompts);
  auto got = model()->classify(Context::background(), prompts);
  ASSERT_EQ(got.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_TRUE(got[i].status.ok()) << got[i].status.message;
    EXPECT_EQ(got[i].token.text, want[i].token.text);
    if (GetParam().reports_ids) {
      EXPECT_EQ(got[i].token.id, want[i].token.id);
    }
  }
}

TEST_P(Conformance, BatchGenerateReportsPerItemErrors) {
  std::vector<std::string> prompts = {"Hello", long_prompt(), "World"};
  auto results =
      model(kSmallContext)->batch_generate(Context::background(), prompts, {.max_tokens = 3});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].status.ok()) << results[0].status.message;
  EXPECT_EQ(results[1].status.code, ErrorCode::invalid_argument);
  EXPECT_TRUE(results[2].status.ok()) << results[2].status.message;
  EXPECT_FALSE(results[2].text.empty());
}

TEST_P(Conformance, TokenizerAndTokenPromptsMatchNativeWhereOffered) {
  auto m = model();
  auto* tok = dynamic_cast<TokenizerModel*>(m.get());
  auto* direct = dynamic_cast<TokenPromptModel*>(m.get());
  if (!tok || !direct) GTEST_SKIP() << GetParam().name << " offers no tokenizer (documented)";
  auto n = native();
  auto* ntok = dynamic_cast<TokenizerModel*>(n.get());
  auto ids = tok->encode(kPrompt);
  EXPECT_EQ(ids, ntok->encode(kPrompt));
  EXPECT_EQ(tok->decode(ids), ntok->decode(ids));
  std::vector<Message> messages = {{.role = "user", .content = "Hi"}};
  EXPECT_EQ(tok->apply_chat_template(messages), ntok->apply_chat_template(messages));
  auto got = drain(direct->generate_tokens(Context::background(), ids, {.max_tokens = 4}));
  auto want = drain(dynamic_cast<TokenPromptModel*>(n.get())->generate_tokens(
      Context::background(), ids, {.max_tokens = 4}));
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_EQ(got.text, want.text);
}

TEST_P(Conformance, CloseTwiceIsSafeAndLaterCallsFail) {
  auto m = leg_model(GetParam(), model_path(), 0, /*fresh=*/true);
  m->close();
  m->close();
  EXPECT_EQ(drain(m->generate(Context::background(), kPrompt)).status.code, ErrorCode::unavailable);
}

INSTANTIATE_TEST_SUITE_P(Backends, Conformance,
                         ::testing::Values(ConformanceLeg{"native", true},
                                           ConformanceLeg{"http", false},
                                           ConformanceLeg{"http_proxy", false},
                                           ConformanceLeg{"llama_server", true},
                                           ConformanceLeg{"llama_server_real", true}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace inference::test
