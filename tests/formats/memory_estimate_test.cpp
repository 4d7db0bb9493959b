// The `infer fit` formula on hand-computed cases, and byte-size parsing.
#include <gtest/gtest.h>

#include "formats/memory_estimate.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::formats {
namespace {

ModelSummary micro(int64_t layers, int64_t kv_heads, int64_t head_dim) {
  ModelSummary m;
  m.path = "micro.gguf";
  m.context_length = 256;
  m.n_layers = layers;
  m.n_embd = 256;
  m.n_ff = 512;
  m.n_heads = 4;
  m.n_kv_heads = kv_heads;
  m.head_dim_k = head_dim;
  m.head_dim_v = head_dim;
  m.vocab_size = 512;
  m.weight_bytes = 1000;
  return m;
}

TEST(MemoryEstimate, KvCacheByType) {
  ModelSummary m = micro(2, 2, 64);
  // Per token and layer: 2 heads × (64 + 64) values.
  EXPECT_EQ(estimate_memory(m, {.kv_type = KvCacheType::f16}).kv_cache_bytes, 2u * 256 * 512);
  EXPECT_EQ(estimate_memory(m, {.kv_type = KvCacheType::f32}).kv_cache_bytes, 2u * 256 * 1024);
  EXPECT_EQ(estimate_memory(m, {.kv_type = KvCacheType::q8_0}).kv_cache_bytes, 2u * 256 * 272);
  MemoryEstimate e = estimate_memory(m, {.context = 1000, .slots = 3});
  EXPECT_EQ(e.context, 1000);
  EXPECT_EQ(e.kv_cache_bytes, 3u * 2 * 1000 * 512);
}

TEST(MemoryEstimate, SlidingLayersKeepOnlyTheirWindow) {
  ModelSummary m = micro(6, 1, 64);
  m.sliding_window = 8;
  m.sliding_layers = {true, true, true, true, true, false};
  // Sliding layers keep the window plus one batch (16 tokens here).
  MemoryEstimate e = estimate_memory(m, {.slots = 3, .batch = 16});
  EXPECT_EQ(e.sliding_layers, 5);
  EXPECT_EQ(e.kv_cache_bytes, 3u * (5 * (8 + 16) + 256) * 256);
  // With the default batch the window + batch exceeds the context: no saving.
  EXPECT_EQ(estimate_memory(m, {}).kv_cache_bytes, 6u * 256 * 256);
  // A context shorter than the window caps the sliding layers too.
  EXPECT_EQ(estimate_memory(m, {.context = 4}).kv_cache_bytes, 6u * 4 * 256);
}

TEST(MemoryEstimate, ScratchAndTotal) {
  ModelSummary m = micro(2, 2, 64);
  MemoryEstimate e = estimate_memory(m, {.context = 1024, .batch = 512, .threads = 2});
  EXPECT_EQ(e.threads, 2);
  uint64_t widths = 3 * 256 + 2 * 4 * 64 + 2 * 2 * 64 + 2 * 512 + 2 * 64;
  uint64_t scratch = 4 * 512 * widths + 4 * 512 * 512 + 4 * 2 * (1024 + 64) + 4 * 512;
  EXPECT_EQ(e.scratch_bytes, scratch);
  EXPECT_EQ(e.weights_bytes, 1000u);
  EXPECT_EQ(e.total_bytes, 1000u + e.kv_cache_bytes + scratch);
}

TEST(MemoryEstimate, RealGemma3File) {
  INFERENCE_REQUIRE_TESTDATA();
  ModelSummary m = summarize_model(test::testdata_dir() / "models/gemma3/gemma3-Q4_K_M.gguf");
  MemoryEstimate e = estimate_memory(m, {.slots = 2, .batch = 8});
  EXPECT_EQ(e.kv_cache_bytes, 2u * (5 * (8 + 8) + 256) * 1 * 128 * 2);
  EXPECT_EQ(e.weights_bytes, m.weight_bytes);
}

TEST(MemoryEstimate, RejectsBadOptionsAndOverflow) {
  ModelSummary m = micro(2, 2, 64);
  EXPECT_THROW(estimate_memory(m, {.slots = 0}), Error);
  EXPECT_THROW(estimate_memory(m, {.context = -5}), Error);
  EXPECT_THROW(estimate_memory(m, {.batch = 0}), Error);
  EXPECT_THROW(estimate_memory(m, {.threads = -1}), Error);
  ModelSummary unknown = m;
  unknown.n_layers = 0;
  EXPECT_THROW(estimate_memory(unknown, {}), Error);
  ModelSummary no_ctx = m;
  no_ctx.context_length = 0;
  EXPECT_THROW(estimate_memory(no_ctx, {}), Error);
  EXPECT_NO_THROW(estimate_memory(no_ctx, {.context = 16}));
  ModelSummary huge = m;
  huge.n_kv_heads = int64_t{1} << 40;
  huge.head_dim_k = huge.head_dim_v = int64_t{1} << 30;
  EXPECT_THROW(estimate_memory(huge, {.context = int64_t{1} << 30}), Error);
  // Absurd layer counts are arithmetic, not a loop: this returns at once.
  ModelSummary many = m;
  many.n_layers = int64_t{1} << 40;
  EXPECT_EQ(estimate_memory(many, {.context = 1}).kv_cache_bytes, (uint64_t{1} << 40) * 512);
}

TEST(ByteSize, Units) {
  EXPECT_EQ(parse_byte_size("17179869184"), 17179869184u);
  EXPECT_EQ(parse_byte_size("16G"), 16ull << 30);
  EXPECT_EQ(parse_byte_size("16GiB"), 16ull << 30);
  EXPECT_EQ(parse_byte_size("16gb"), 16000000000u);
  EXPECT_EQ(parse_byte_size("512M"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("1T"), 1ull << 40);
  EXPECT_EQ(parse_byte_size("10B"), 10u);
  for (const char* bad :
       {"", "G", "16X", "1.5G", "-1", "16GiBB", "99999999999999999999", "20000000000T"}) {
    EXPECT_THROW(parse_byte_size(bad), Error) << bad;
  }
}

TEST(ByteSize, KvTypeNames) {
  EXPECT_EQ(kv_cache_type_from_name("q8_0"), KvCacheType::q8_0);
  EXPECT_FALSE(kv_cache_type_from_name("q4_0").has_value());
  EXPECT_EQ(to_string(KvCacheType::f16), "f16");
}

}  // namespace
}  // namespace inference::formats
