// The native backend's TextModel behaviour on a small real model: slots, early exit,
// cancellation, close, classify/batch parity with generate, stop strings, seeds, chat reuse.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "inference/capabilities.hpp"
#include "inference/inference.hpp"
#include "support/testdata.hpp"

namespace inference {
namespace {

std::filesystem::path bpe_model() {
  return test::testdata_dir() / "models" / "e2e" / "e2e-bpe-gpt2-Q8_0.gguf";
}
std::filesystem::path spm_model() {
  return test::testdata_dir() / "models" / "e2e" / "e2e-spm-mistral-Q4_K_M.gguf";
}

std::unique_ptr<TextModel> load(const std::filesystem::path& path, int32_t slots = 1) {
  return load_model(
      path, {.backend = "native", .context_length = 256, .parallel_slots = slots, .threads = 1});
}

struct Collected {
  std::vector<int32_t> ids;
  std::string text;
  Status status;
};

Collected collect(TokenStream stream) {
  Collected c;
  for (const Token& t : stream) {
    if (t.id >= 0) c.ids.push_back(t.id);
    c.text += t.text;
  }
  c.status = stream.err();
  return c;
}

#define REQUIRE_MODELS()                                                                \
  do {                                                                                  \
    if (!std::filesystem::exists(bpe_model()) || !std::filesystem::exists(spm_model())) \
      GTEST_SKIP() << "e2e models not found under " << test::testdata_dir();            \
  } while (0)

TEST(NativeBackend, IsRegisteredAndAlwaysAvailable) {
  auto backend = find_backend("native");
  ASSERT_NE(backend, nullptr);
  EXPECT_TRUE(backend->available());
}

TEST(NativeBackend, MissingFileIsAClearError) {
  try {
    load_model("/no/such/model.gguf", {.backend = "native"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/model.gguf"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_model(bpe_model(), {.backend = "native", .parallel_slots = 0}), Error);
}

TEST(NativeModel, InfoDescribesTheModel) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  const ModelInfo info = model->info();
  EXPECT_EQ(info.backend, "native");
  EXPECT_EQ(info.architecture, "qwen2");
  EXPECT_EQ(model->model_type(), "qwen2");
  EXPECT_EQ(info.vocab_size, 50257);
  EXPECT_EQ(info.context_length, 256);
}

TEST(NativeModel, LeavingTheLoopEarlyFreesTheSlot) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  auto stream = model->generate(Context::background(), "Hello", {.max_tokens = 50});
  int n = 0;
  for (const Token& t : stream) {
    (void)t;
    if (++n == 2) break;
  }
  EXPECT_EQ(n, 2);
  EXPECT_TRUE(stream.err().ok());
  auto again = collect(model->generate(Context::background(), "Hello", {.max_tokens = 3}));
  EXPECT_TRUE(again.status.ok()) << again.status.message;
  EXPECT_EQ(again.ids.size(), 3u);
}

TEST(NativeModel, SlotsLimitConcurrentStreams) {
  REQUIRE_MODELS();
  // One slot, held by a stream nobody pulls: a second call waits in the queue until its
  // deadline (the held stream sits steps out once it is kMaxReadAhead tokens ahead).
  auto one = load(bpe_model(), 1);
  auto held = one->generate(Context::background(), "Hello", {.max_tokens = 50});
  Token t;
  ASSERT_TRUE(held.next(t));
  auto waiting = one->generate(Context::background().with_timeout(std::chrono::milliseconds(50)),
                               "Hello", {.max_tokens = 4});
  EXPECT_FALSE(waiting.next(t));
  EXPECT_EQ(waiting.err().code, ErrorCode::deadline_exceeded);
  EXPECT_EQ(waiting.finish_reason(), FinishReason::deadline);
  held.close();  // frees the slot: the next call runs at once
  EXPECT_TRUE(
      collect(one->generate(Context::background(), "Hello", {.max_tokens = 2})).status.ok());

  // Two slots: interleaved streams give what each gives alone (greedy).
  auto two = load(bpe_model(), 2);
  const auto alone_a = collect(two->generate(Context::background(), "Hello", {.max_tokens = 6}));
  const auto alone_b = collect(two->generate(Context::background(), "The sea", {.max_tokens = 6}));
  auto a = two->generate(Context::background(), "Hello", {.max_tokens = 6});
  auto b = two->generate(Context::background(), "The sea", {.max_tokens = 6});
  std::vector<int32_t> ids_a, ids_b;
  Token ta, tb;
  while (true) {
    const bool more_a = a.next(ta), more_b = b.next(tb);
    if (more_a) ids_a.push_back(ta.id);
    if (more_b) ids_b.push_back(tb.id);
    if (!more_a && !more_b) break;
  }
  EXPECT_EQ(ids_a, alone_a.ids);
  EXPECT_EQ(ids_b, alone_b.ids);
}

TEST(NativeModel, CancellationEndsTheStream) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  auto cancelled = Context::background().with_cancel();
  cancelled.cancel();
  auto none = collect(model->generate(cancelled, "Hello", {}));
  EXPECT_TRUE(none.ids.empty());
  EXPECT_EQ(none.status.code, ErrorCode::cancelled);

  auto ctx = Context::background().with_cancel();
  auto stream = model->generate(ctx, "Hello", {.max_tokens = 100, .ignore_eos = true});
  int n = 0;
  for (const Token& t : stream) {
    (void)t;
    if (++n == 3) ctx.cancel();
  }
  EXPECT_EQ(n, 3);
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);
  EXPECT_EQ(model->err().code, ErrorCode::cancelled);
  // The slot is usable afterwards.
  EXPECT_TRUE(
      collect(model->generate(Context::background(), "Hello", {.max_tokens = 2})).status.ok());
}

TEST(NativeModel, CloseIsIdempotentAndLaterCallsFailUnavailable) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  auto open = model->generate(Context::background(), "Hello", {.max_tokens = 10});
  Token t;
  ASSERT_TRUE(open.next(t));
  model->close();
  model->close();
  EXPECT_FALSE(open.next(t));
  EXPECT_EQ(open.err().code, ErrorCode::unavailable);
  EXPECT_EQ(collect(model->generate(Context::background(), "Hi", {})).status.code,
            ErrorCode::unavailable);
  try {
    model->classify(Context::background(), std::vector<std::string>{"Hi"});
    FAIL() << "classify after close must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
  }
  auto* tok = dynamic_cast<TokenizerModel*>(model.get());
  EXPECT_THROW(tok->encode("Hi"), Error);
  EXPECT_EQ(model->info().architecture, "qwen2");  // static facts stay readable
}

TEST(NativeModel, ClassifyBatchesGiveTheSameTokensAsGenerate) {
  REQUIRE_MODELS();
  auto model = load(bpe_model(), 3);
  const std::vector<std::string> prompts = {"Hello world", "The sea is",
                                            "def f(x):", "One two three four", "A"};
  auto results = model->classify(Context::background(), prompts, {.return_logits = true});
  ASSERT_EQ(results.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_TRUE(results[i].status.ok()) << results[i].status.message;
    EXPECT_EQ(results[i].logits.size(), 50257u);
    auto first = collect(
        model->generate(Context::background(), prompts[i], {.max_tokens = 1, .ignore_eos = true}));
    ASSERT_EQ(first.ids.size(), 1u);
    EXPECT_EQ(results[i].token.id, first.ids[0]) << prompts[i];
  }
  // A bad prompt fails alone.
  auto mixed = model->classify(Context::background(), std::vector<std::string>{"Hi", ""});
  EXPECT_TRUE(mixed[0].status.ok());
  EXPECT_EQ(mixed[1].status.code, ErrorCode::invalid_argument);
}

TEST(NativeModel, BatchGenerateGivesPerPromptResults) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  const std::vector<std::string> prompts = {"Hello", "The sea"};
  const GenerateConfig config{.max_tokens = 5, .ignore_eos = true};
  auto results = model->batch_generate(Context::background(), prompts, config);
  ASSERT_EQ(results.size(), 2u);
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto alone = collect(model->generate(Context::background(), prompts[i], config));
    EXPECT_TRUE(results[i].status.ok());
    EXPECT_EQ(results[i].text, alone.text);
    EXPECT_EQ(results[i].tokens.size(), 5u);
  }
}

TEST(NativeModel, StopStringsAreNeverEmitted) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  const GenerateConfig base{.max_tokens = 24, .ignore_eos = true};
  const auto full = collect(model->generate(Context::background(), "Hello world", base));
  ASSERT_GE(full.text.size(), 8u);
  // A stop string taken from the middle of the greedy text, likely spanning tokens.
  const std::string stop = full.text.substr(full.text.size() / 2, 3);
  const size_t at = full.text.find(stop);
  GenerateConfig with_stop = base;
  with_stop.stop = {stop};
  const auto cut = collect(model->generate(Context::background(), "Hello world", with_stop));
  EXPECT_TRUE(cut.status.ok());
  EXPECT_EQ(cut.text, full.text.substr(0, at));
}

TEST(NativeModel, SameSeedSameTokensAndMetricsCount) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  const GenerateConfig config{.max_tokens = 12,
                              .temperature = 0.9f,
                              .top_k = 40,
                              .top_p = 0.95f,
                              .seed = 1234,
                              .ignore_eos = true};
  const auto a = collect(model->generate(Context::background(), "Once upon", config));
  const auto b = collect(model->generate(Context::background(), "Once upon", config));
  EXPECT_EQ(a.ids, b.ids);
  const GenerateMetrics m = model->metrics();
  EXPECT_EQ(m.generated_tokens, 12);
  EXPECT_EQ(m.prompt_tokens, 2);
  EXPECT_GT(m.peak_memory_bytes, 0u);
}

// Loading with options[name] = value fails with invalid_argument naming the option.
void expect_option_refused(const std::string& name, const std::string& value) {
  LoadConfig bad{.backend = "native"};
  bad.options[name] = value;
  try {
    load_model(bpe_model(), bad);
    FAIL() << "expected an error for " << name << "=" << value;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(NativeModel, KvPrefaultOptionGivesTheSameTokensAndBadValuesAreNamed) {
  REQUIRE_MODELS();
  const GenerateConfig config{.max_tokens = 8, .ignore_eos = true};
  auto plain = load_model(bpe_model(), {.backend = "native"});
  LoadConfig prefaulted{.backend = "native"};
  prefaulted.options["kv_prefault"] = "true";
  auto touched = load_model(bpe_model(), prefaulted);
  EXPECT_EQ(collect(plain->generate(Context::background(), "Once upon", config)).ids,
            collect(touched->generate(Context::background(), "Once upon", config)).ids);
  expect_option_refused("kv_prefault", "yes please");
}

// packed_weights keeps the weights in the panel GEMM's form too: memory grows by about the
// panels' size, the greedy tokens of a short generation agree with the plain model (the panel
// GEMM and the row-vector kernels round differently only in the last bits), and a bad value is
// named.
TEST(NativeModel, PackedWeightsOptionServesTheSameModel) {
  REQUIRE_MODELS();
  const GenerateConfig config{.max_tokens = 6, .logprobs = 3, .ignore_eos = true};
  auto plain = load_model(spm_model(), {.backend = "native"});
  LoadConfig packed_config{.backend = "native"};
  packed_config.options["packed_weights"] = "true";
  auto packed = load_model(spm_model(), packed_config);
  const auto a = collect(plain->generate(Context::background(), "Once upon", config));
  const auto b = collect(packed->generate(Context::background(), "Once upon", config));
  ASSERT_TRUE(b.status.ok()) << b.status.message;
  ASSERT_EQ(a.ids.size(), b.ids.size());
  EXPECT_EQ(a.ids.front(), b.ids.front());
  EXPECT_GT(packed->metrics().peak_memory_bytes, plain->metrics().peak_memory_bytes);
  expect_option_refused("packed_weights", "maybe");
}

TEST(NativeModel, ChatTurnReusingTheCacheMatchesAFreshModel) {
  REQUIRE_MODELS();
  const GenerateConfig config{.max_tokens = 6, .logprobs = 5, .ignore_eos = true};
  auto model = load(spm_model());
  std::vector<Message> messages = {{"user", "Write a haiku about the sea."}};
  auto first = collect(model->chat(Context::background(), messages, config));
  ASSERT_TRUE(first.status.ok()) << first.status.message;
  messages.push_back({"assistant", first.text});
  messages.push_back({"user", "Now one about the mountains."});
  auto reused = model->chat(Context::background(), messages, config);
  Token reused_first;
  ASSERT_TRUE(reused.next(reused_first)) << reused.err().message;

  auto fresh_model = load(spm_model());
  auto fresh = fresh_model->chat(Context::background(), messages, config);
  Token fresh_first;
  ASSERT_TRUE(fresh.next(fresh_first)) << fresh.err().message;
  ASSERT_EQ(reused_first.top_logprobs.size(), fresh_first.top_logprobs.size());
  for (size_t i = 0; i < fresh_first.top_logprobs.size(); ++i) {
    // Cached prefix vs one batch: the same numbers up to the quantised noise floor.
    EXPECT_NEAR(reused_first.top_logprobs[i].logprob, fresh_first.top_logprobs[i].logprob, 0.7);
  }
}

TEST(NativeModel, TokenIdsAndAttentionInspection) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  auto* direct = dynamic_cast<TokenPromptModel*>(model.get());
  ASSERT_NE(direct, nullptr);
  const std::vector<int32_t> ids = {15496, 995};
  auto from_ids = collect(direct->generate_tokens(Context::background(), ids, {.max_tokens = 3}));
  auto from_text =
      collect(model->generate(Context::background(), "Hello world", {.max_tokens = 3}));
  EXPECT_EQ(from_ids.ids, from_text.ids);
  auto bad = collect(direct->generate_tokens(Context::background(), std::vector<int32_t>{-1}, {}));
  EXPECT_EQ(bad.status.code, ErrorCode::invalid_argument);

  auto* inspector = dynamic_cast<AttentionInspector*>(model.get());
  ASSERT_NE(inspector, nullptr);
  const AttentionSnapshot snap = inspector->inspect_attention(Context::background(), "Hello world");
  EXPECT_EQ(snap.n_tokens, 2);
  EXPECT_GT(snap.head_dim, 0);
  EXPECT_EQ(snap.queries.size(),
            static_cast<size_t>(snap.n_layers) * snap.n_heads * 2 * snap.head_dim);
  EXPECT_EQ(snap.keys.size(),
            static_cast<size_t>(snap.n_layers) * snap.n_kv_heads * 2 * snap.head_dim);
}

TEST(NativeModel, InvalidConfigEndsTheStreamWithAClearError) {
  REQUIRE_MODELS();
  auto model = load(bpe_model());
  auto bad = collect(model->generate(Context::background(), "Hi", {.top_p = 0.0f}));
  EXPECT_EQ(bad.status.code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.status.message.find("top_p"), std::string::npos);
}

}  // namespace
}  // namespace inference
