// KV cache element types and the split decode attention in the engine: a Q8_0 cache takes
// 34/64 of the F16 bytes; token-by-token decode (split kernel, several blocks of cells) agrees
// with one prompt batch for F32 and Q8_0 caches; interleaved sequences sharing the cache (as
// continuous batching runs them) give each sequence's own results; the thread count does not
// change a bit; a model whose head size Q8_0 cannot hold is refused clearly.
#include <gtest/gtest.h>

#include "decode_helpers.hpp"

#include <cmath>
#include <vector>

#include "engine/engine.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

using test::max_abs_diff;
using test::run_incremental;

std::filesystem::path model(const std::string& dir, const std::string& file) {
  return test::testdata_dir() / "models" / dir / file;
}

std::unique_ptr<Engine> load(const std::string& dir, const std::string& file, const std::string& kv,
                             int32_t ctx, int32_t threads = 1, int32_t n_seq = 1) {
  return Engine::load(
      model(dir, file),
      {.context_length = ctx, .n_sequences = n_seq, .threads = threads, .kv_cache_type = kv});
}

// Deterministic token ids below the micro models' vocabulary of 512.
std::vector<int32_t> tokens(int n, int salt = 0) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back((i * 37 + salt * 101 + 11) % 500 + 1);
  return t;
}

std::vector<float> batch(Engine& e, const std::vector<int32_t>& ids, int32_t seq) {
  std::vector<BatchEntry> b;
  for (size_t i = 0; i < ids.size(); ++i) b.push_back({ids[i], static_cast<int32_t>(i), seq, true});
  std::vector<float> logits;
  e.decode(Context::background(), b, logits);
  return logits;
}

TEST(KvCacheTypes, Q8_0TakesHalfTheBytesOfF16) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto m32 = load("llama", "llama-F32.gguf", "f32", 256)->memory_bytes();
  const auto m16 = load("llama", "llama-F32.gguf", "f16", 256)->memory_bytes();
  const auto m8 = load("llama", "llama-F32.gguf", "q8_0", 256)->memory_bytes();
  // Everything but the cache is the same: f32 - f16 = the F16 cache, f16 - q8_0 = 30/64 of it.
  const uint64_t f16_cache = m32 - m16;
  ASSERT_GT(f16_cache, 0u);
  EXPECT_EQ((m16 - m8) * 64, f16_cache * 30);
}

// 600 positions: three blocks of cells for the split kernel, against the prompt-block path.
TEST(KvCacheTypes, TokenByTokenMatchesOneBatchOverSeveralBlocks) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto ids = tokens(600);
  for (const char* kv : {"f32", "q8_0"}) {
    auto e = load("llama", "llama-F32.gguf", kv, 640);
    const auto whole = batch(*e, ids, 0);
    e->truncate_sequence(0, 0);
    const auto steps = run_incremental(*e, ids, 0);
    EXPECT_LT(max_abs_diff(whole, steps), 1e-3f) << kv;
  }
}

TEST(KvCacheTypes, Q8_0CacheStaysCloseToF32) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto ids = tokens(80);
  auto a = load("mistral", "mistral-F32.gguf", "f32", 128);
  auto b = load("mistral", "mistral-F32.gguf", "q8_0", 128);
  const auto exact = run_incremental(*a, ids, 0);
  const auto rounded = run_incremental(*b, ids, 0);
  const float diff = max_abs_diff(exact, rounded);
  EXPECT_GT(diff, 0.0f);  // the rounding is really applied
  EXPECT_LT(diff, 0.25f);
}

// Two sequences decoded in the same batches (continuous batching) read only their own cells.
TEST(KvCacheTypes, InterleavedSequencesMatchSeparateRuns) {
  INFERENCE_REQUIRE_TESTDATA();
  for (const char* kv : {"f16", "q8_0"}) {
    auto e = load("qwen2", "qwen2-Q4_K_M.gguf", kv, 300, 2, 2);
    const auto a = tokens(270, 1), b = tokens(270, 2);
    const auto alone_a = run_incremental(*e, a, 0);
    e->truncate_sequence(0, 0);
    const auto alone_b = run_incremental(*e, b, 1);
    e->truncate_sequence(1, 0);
    std::vector<float> mixed_a, mixed_b, row;
    const size_t n_vocab = static_cast<size_t>(e->n_vocab());
    for (int32_t i = 0; i < 270; ++i) {
      const BatchEntry pair[2] = {{a[static_cast<size_t>(i)], i, 0, true},
                                  {b[static_cast<size_t>(i)], i, 1, true}};
      e->decode(Context::background(), pair, row);
      mixed_a.insert(mixed_a.end(), row.begin(), row.begin() + n_vocab);
      mixed_b.insert(mixed_b.end(), row.begin() + n_vocab, row.end());
    }
    // Attention is computed per token exactly as alone; the matmuls of a 2-row batch may take
    // another kernel than a 1-row one, hence float rounding only.
    EXPECT_LT(max_abs_diff(mixed_a, alone_a), 1e-3f) << kv;
    EXPECT_LT(max_abs_diff(mixed_b, alone_b), 1e-3f) << kv;
  }
}

TEST(KvCacheTypes, ThreadCountDoesNotChangeDecode) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto ids = tokens(270);  // two blocks of cells
  for (const char* kv : {"f16", "q8_0"}) {
    auto one = load("llama", "llama-Q4_K_M.gguf", kv, 280, 1);
    auto two = load("llama", "llama-Q4_K_M.gguf", kv, 280, 2);
    EXPECT_EQ(run_incremental(*one, ids, 0), run_incremental(*two, ids, 0)) << kv;
  }
}

TEST(KvCacheTypes, UnknownTypeIsRefusedByName) {
  INFERENCE_REQUIRE_TESTDATA();
  try {
    load("llama", "llama-F32.gguf", "q4_0", 64);
    ADD_FAILURE() << "q4_0 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("q8_0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace inference::engine
