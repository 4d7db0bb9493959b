// Engine::decode behaviour on the reference micro models: one batch equals token-by-token
// decode, chunked batches, interleaved sequences, truncation and re-feeding, the sliding-window
// ring, the F16 cache, cancellation, attention capture, and clear errors for bad batches.
#include <gtest/gtest.h>

#include "decode_helpers.hpp"

#include <cmath>
#include <vector>

#include "engine/engine.hpp"
#include "inference/error.hpp"
#include "reference_logits.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

using test::max_abs_diff;
using test::run_incremental;

const std::vector<int32_t> kS2 = {
    1,   67,  400, 339, 53,  493, 386, 303, 198, 222, 438, 226, 248, 252, 56,  354,
    439, 237, 325, 410, 85,  285, 292, 476, 242, 375, 123, 330, 290, 197, 377, 305,
    284, 81,  427, 263, 156, 156, 183, 503, 58,  199, 268, 294, 440, 199, 481, 371,
    299, 240, 258, 357, 463, 334, 146, 262, 239, 71,  415, 42,  424, 221, 479, 140,
    452, 78,  143, 253, 467, 191, 84,  176, 244, 318, 475, 224, 478, 259, 136, 370};

std::filesystem::path model_path(const std::string& dir, const std::string& file) {
  return test::testdata_dir() / "models" / dir / file;
}

std::unique_ptr<Engine> load(const std::string& dir, const std::string& file,
                             ModelLoadOptions options = {}) {
  if (options.context_length == 0) options.context_length = 128;
  if (options.kv_cache_type.empty()) options.kv_cache_type = "f32";
  // One thread unless a test asks for more: results do not depend on it, and a single thread
  // stays fast when the CI machine is busy.
  if (options.threads == 0) options.threads = 1;
  return Engine::load(model_path(dir, file), options);
}

std::vector<BatchEntry> entries(const std::vector<int32_t>& tokens, int32_t seq, int32_t first_pos,
                                bool logits = true) {
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i) {
    batch.push_back({tokens[i], first_pos + static_cast<int32_t>(i), seq, logits});
  }
  return batch;
}

std::vector<float> run(Engine& engine, const std::vector<BatchEntry>& batch) {
  std::vector<float> logits;
  engine.decode(Context::background(), batch, logits);
  return logits;
}

TEST(Decode, OneBatchEqualsTokenByToken) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("llama", "llama-F32.gguf");
  auto batch = run(*engine, entries(kS2, 0, 0));
  EXPECT_EQ(engine->sequence_length(0), 80);
  ASSERT_EQ(engine->sequence_tokens(0).size(), kS2.size());
  EXPECT_EQ(engine->sequence_tokens(0)[5], kS2[5]);
  engine->truncate_sequence(0, 0);
  EXPECT_EQ(engine->sequence_length(0), 0);
  auto incremental = run_incremental(*engine, kS2, 0);
  EXPECT_LT(max_abs_diff(batch, incremental), 1e-4f);
}

// Prompt chunks of `chunk` tokens, one decode call each.
std::vector<float> run_chunked(Engine& engine, const std::vector<int32_t>& tokens, size_t chunk) {
  std::vector<float> all;
  for (size_t i = 0; i < tokens.size(); i += chunk) {
    const std::vector<int32_t> part(
        tokens.begin() + static_cast<std::ptrdiff_t>(i),
        tokens.begin() + static_cast<std::ptrdiff_t>(std::min(tokens.size(), i + chunk)));
    const auto logits = run(engine, entries(part, 0, static_cast<int32_t>(i)));
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

TEST(Decode, ChunkedBatchesEqualOneBatch) {
  INFERENCE_REQUIRE_TESTDATA();
  // Chunks of 20 take the same prompt kernels as one batch of 80 (panel GEMM, block attention),
  // whose per-token arithmetic does not depend on the batch: equal bits. Chunks of 7 take the
  // small-batch kernels (dot tiles, attention per query), equal up to float rounding — which,
  // on quantised weights, can flip the Q8 rounding of a later activation, so that comparison
  // uses the F32 file.
  auto whole = load("qwen2", "qwen2-Q8_0.gguf");
  auto chunked = load("qwen2", "qwen2-Q8_0.gguf", {.batch_size = 20});
  EXPECT_LT(max_abs_diff(run(*whole, entries(kS2, 0, 0)), run(*chunked, entries(kS2, 0, 0))),
            1e-4f);
  auto whole_f32 = load("qwen2", "qwen2-F32.gguf");
  auto small_f32 = load("qwen2", "qwen2-F32.gguf", {.batch_size = 7});
  EXPECT_LT(max_abs_diff(run(*whole_f32, entries(kS2, 0, 0)), run(*small_f32, entries(kS2, 0, 0))),
            1e-4f);
}

TEST(Decode, InterleavedSequencesAreIndependent) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("qwen3", "qwen3-F32.gguf", {.n_sequences = 3, .threads = 2});
  const std::vector<int32_t> a(kS2.begin(), kS2.begin() + 20),
      b(kS2.begin() + 30, kS2.begin() + 45);
  auto alone_a = run(*engine, entries(a, 1, 0));
  auto alone_b = run(*engine, entries(b, 2, 0));
  engine->truncate_sequence(1, 0);
  engine->truncate_sequence(2, 0);
  // Interleave: b's tokens between a's.
  std::vector<BatchEntry> mixed;
  auto ea = entries(a, 1, 0), eb = entries(b, 2, 0);
  for (size_t i = 0; i < ea.size(); ++i) {
    mixed.push_back(ea[i]);
    if (i < eb.size()) mixed.push_back(eb[i]);
  }
  auto together = run(*engine, mixed);
  const size_t n_vocab = static_cast<size_t>(engine->n_vocab());
  std::vector<float> got_a, got_b;
  for (size_t i = 0; i < mixed.size(); ++i) {
    auto& dst = mixed[i].seq == 1 ? got_a : got_b;
    dst.insert(dst.end(), together.begin() + i * n_vocab, together.begin() + (i + 1) * n_vocab);
  }
  EXPECT_LT(max_abs_diff(alone_a, got_a), 1e-4f);
  EXPECT_LT(max_abs_diff(alone_b, got_b), 1e-4f);
  EXPECT_EQ(engine->sequence_length(0), 0);
}

TEST(Decode, TruncateThenRefeedReproducesLogits) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("llama", "llama-Q4_K_M.gguf");
  auto full = run(*engine, entries(kS2, 0, 0));
  engine->truncate_sequence(0, 50);
  EXPECT_EQ(engine->sequence_length(0), 50);
  const std::vector<int32_t> tail(kS2.begin() + 50, kS2.end());
  auto again = run(*engine, entries(tail, 0, 50));
  const size_t n_vocab = static_cast<size_t>(engine->n_vocab());
  std::vector<float> expected(full.begin() + 50 * n_vocab, full.end());
  EXPECT_LT(max_abs_diff(expected, again), 1e-4f);
}

TEST(Decode, SlidingWindowRingMatchesFullCache) {
  INFERENCE_REQUIRE_TESTDATA();
  // gemma3 micro: window 8. batch_size 4 makes its local layers a ring of 12 cells, so 80
  // positions wrap it several times; the default keeps every position.
  // The full cache gets the same chunks, so both take the same attention kernels (gemma3 micro
  // amplifies float rounding to ~2e-3 in the logits, see the exactness tests).
  auto ring = load("gemma3", "gemma3-F32.gguf", {.batch_size = 4});
  auto full = load("gemma3", "gemma3-F32.gguf");
  auto ring_logits = run(*ring, entries(kS2, 0, 0));
  EXPECT_LT(max_abs_diff(ring_logits, run_chunked(*full, kS2, 4)), 1e-4f);
  // Chunks of 16 take the prompt-block attention kernel on a ring of 24 cells.
  auto ring16 = load("gemma3", "gemma3-F32.gguf", {.batch_size = 16});
  full->truncate_sequence(0, 0);
  EXPECT_LT(max_abs_diff(run(*ring16, entries(kS2, 0, 0)), run_chunked(*full, kS2, 16)), 1e-4f);
  // Truncating to 78 keeps the 7 positions position 78 needs (71..77): allowed.
  ring->truncate_sequence(0, 78);
  EXPECT_EQ(ring->sequence_length(0), 78);
  auto refed = run(*ring, entries({kS2[78], kS2[79]}, 0, 78));
  const size_t n_vocab = static_cast<size_t>(ring->n_vocab());
  EXPECT_LT(max_abs_diff(std::vector<float>(ring_logits.begin() + 78 * n_vocab, ring_logits.end()),
                         refed),
            1e-4f);
  // Truncating to 40: the ring no longer holds 33..39, so the sequence is cleared.
  ring->truncate_sequence(0, 40);
  EXPECT_EQ(ring->sequence_length(0), 0);
}

TEST(Decode, F16CacheStaysCloseToF32) {
  INFERENCE_REQUIRE_TESTDATA();
  auto f32 = load("mistral", "mistral-F32.gguf");
  auto f16 = load("mistral", "mistral-F32.gguf", {.kv_cache_type = "f16"});
  auto a = run(*f32, entries(kS2, 0, 0));
  auto b = run(*f16, entries(kS2, 0, 0));
  const size_t n_vocab = static_cast<size_t>(f32->n_vocab());
  double worst = 0;
  for (size_t i = 0; i < kS2.size(); ++i) {
    worst = std::max(worst, test::full_kl(std::span(a.data() + i * n_vocab, n_vocab),
                                          std::span(b.data() + i * n_vocab, n_vocab)));
  }
  EXPECT_GT(max_abs_diff(a, b), 0.0f);  // the rounding is really applied
  EXPECT_LT(worst, 2e-4);               // README: kv_f16 noise is ~5e-6 for F32 files
}

TEST(Decode, OnlyRequestedRowsAreReturned) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("llama", "llama-F32.gguf");
  auto all = run(*engine, entries(kS2, 0, 0));
  engine->truncate_sequence(0, 0);
  auto batch = entries(kS2, 0, 0, false);
  batch[10].logits = true;
  batch[79].logits = true;
  auto two = run(*engine, batch);
  const size_t n_vocab = static_cast<size_t>(engine->n_vocab());
  ASSERT_EQ(two.size(), 2 * n_vocab);
  EXPECT_LT(
      max_abs_diff(std::vector<float>(two.begin(), two.begin() + n_vocab),
                   std::vector<float>(all.begin() + 10 * n_vocab, all.begin() + 11 * n_vocab)),
      1e-5f);
}

TEST(Decode, BadBatchesAreRejectedBeforeAnyChange) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("llama", "llama-F32.gguf", {.context_length = 16, .n_sequences = 2});
  std::vector<float> logits;
  auto expect_invalid = [&](std::vector<BatchEntry> batch, const std::string& needle) {
    try {
      engine->decode(Context::background(), batch, logits);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_invalid({{512, 0, 0, true}}, "token id 512");
  expect_invalid({{-1, 0, 0, true}}, "token id -1");
  expect_invalid({{1, 0, 2, true}}, "sequence 2");
  expect_invalid({{1, 1, 0, true}}, "expected 0");
  expect_invalid({{1, 0, 0, true}, {2, 2, 0, true}}, "expected 1");
  EXPECT_EQ(engine->sequence_length(0), 0);
  run(*engine, entries(std::vector<int32_t>(16, 5), 0, 0, false));
  expect_invalid({{1, 16, 0, true}}, "context length");
  EXPECT_THROW(engine->truncate_sequence(5, 0), Error);
  EXPECT_THROW(engine->sequence_length(-1), Error);
}

TEST(Decode, CancelledContextStopsWithoutAdvancing) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("llama", "llama-F32.gguf");
  Context ctx = Context::background().with_cancel();
  ctx.cancel();
  std::vector<float> logits;
  auto batch = entries(kS2, 0, 0);
  try {
    engine->decode(ctx, batch, logits);
    ADD_FAILURE() << "decode ignored cancellation";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::cancelled);
  }
  EXPECT_EQ(engine->sequence_length(0), 0);
  // Still usable afterwards.
  EXPECT_NO_THROW(run(*engine, batch));
}

TEST(Load, RejectsBadOptionsAndPaths) {
  INFERENCE_REQUIRE_TESTDATA();
  try {
    load("llama", "llama-F32.gguf", {.kv_cache_type = "q4_9"});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
  }
  EXPECT_THROW(load("llama", "llama-F32.gguf", {.n_sequences = -1}), Error);
  EXPECT_THROW(load("llama", "llama-F32.gguf", {.context_length = -5}), Error);
  try {
    Engine::load(test::testdata_dir() / "models" / "nope.gguf", {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  // A vocabulary-only GGUF has no weights: the missing tensor is named.
  try {
    Engine::load(test::testdata_dir() / "vocab" / "ggml-vocab-llama-spm.gguf", {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ggml-vocab-llama-spm.gguf"), std::string::npos)
        << e.what();
  }
}

TEST(Load, InfoDescribesTheModel) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("gemma3", "gemma3-Q4_K_M.gguf", {.context_length = 64});
  ModelInfo info = engine->info();
  EXPECT_EQ(info.architecture, "gemma3");
  EXPECT_EQ(info.n_layers, 6);
  EXPECT_EQ(info.hidden_size, 256);
  EXPECT_EQ(info.n_heads, 4);
  EXPECT_EQ(info.n_kv_heads, 1);
  EXPECT_EQ(info.vocab_size, 512);
  EXPECT_EQ(info.context_length, 64);
  EXPECT_EQ(info.train_context_length, 256);
  EXPECT_EQ(info.quantization, "Q4_K - Medium");
  EXPECT_GT(info.parameter_count, 0u);
  EXPECT_EQ(engine->context_length(), 64);
  EXPECT_GT(engine->memory_bytes(), info.file_size);
  // Default context: the training context (256) under the 4096 cap.
  auto dflt = Engine::load(model_path("gemma3", "gemma3-Q4_K_M.gguf"), {.threads = 1});
  EXPECT_EQ(dflt->context_length(), 256);
}

TEST(CaptureAttention, QueriesAndKeysPerLayerAndHead) {
  INFERENCE_REQUIRE_TESTDATA();
  auto engine = load("qwen3", "qwen3-F32.gguf");
  std::vector<float> q, k, q_short, k_short;
  engine->capture_attention(Context::background(), kS2, 0, q, k);
  // 2 layers x 4 heads x 80 tokens x 64 dims; keys with 2 KV heads.
  ASSERT_EQ(q.size(), 2u * 4 * 80 * 64);
  ASSERT_EQ(k.size(), 2u * 2 * 80 * 64);
  // Causality: the keys of a prefix do not depend on what follows.
  const std::vector<int32_t> prefix(kS2.begin(), kS2.begin() + 10);
  engine->capture_attention(Context::background(), prefix, 0, q_short, k_short);
  for (int layer = 0; layer < 2; ++layer) {
    for (int h = 0; h < 2; ++h) {
      for (int t = 0; t < 10; ++t) {
        for (int d = 0; d < 64; ++d) {
          const float a = k[((layer * 2 + h) * 80 + t) * 64 + d];
          const float b = k_short[((layer * 2 + h) * 10 + t) * 64 + d];
          ASSERT_NEAR(a, b, 1e-5f) << layer << " " << h << " " << t << " " << d;
        }
      }
    }
  }
  // Position 0 is not rotated, so its query is the normed projection: non-trivial.
  float norm = 0;
  for (int d = 0; d < 64; ++d) norm += q[d] * q[d];
  EXPECT_GT(norm, 0.0f);
  EXPECT_EQ(engine->sequence_length(0), 10);
}

}  // namespace
}  // namespace inference::engine
