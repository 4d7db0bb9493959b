// The default slot count of `infer serve` (no -np): as many slots as fit in 3/4 of the
// available memory at the slot's context, between 1 and 8.
#include <gtest/gtest.h>

#include "formats/parallel_slots.hpp"

namespace inference::formats {
namespace {

ModelSummary micro(int64_t context) {
  ModelSummary m;
  m.path = "micro.gguf";
  m.context_length = context;
  m.n_layers = 2;
  m.n_embd = 256;
  m.n_ff = 512;
  m.n_heads = 4;
  m.n_kv_heads = 2;
  m.head_dim_k = 64;
  m.head_dim_v = 64;
  m.vocab_size = 512;
  m.weight_bytes = 1'000'000;
  return m;
}

uint64_t total(const ModelSummary& m, int64_t context, int32_t slots) {
  return estimate_memory(m, {.context = context, .slots = slots, .threads = 2}).total_bytes;
}

TEST(ParallelSlots, AsManyAsFitInThreeQuartersOfTheMemoryUpToEight) {
  const ModelSummary m = micro(1024);
  // Plenty of memory: the cap.
  EXPECT_EQ(choose_parallel_slots(m, 0, KvCacheType::f16, uint64_t{1} << 40, 2).slots, 8);
  // Exactly 3 slots' worth of budget: 3.
  const uint64_t three = total(m, 1024, 3);
  const SlotChoice c = choose_parallel_slots(m, 0, KvCacheType::f16, three / 3 * 4 + 4, 2);
  EXPECT_EQ(c.slots, 3);
  EXPECT_EQ(c.context, 1024);
  EXPECT_EQ(c.total_bytes, three);
  EXPECT_LE(c.total_bytes, c.budget_bytes);
  // Too little for even one: still one (the load reports what does not fit).
  EXPECT_EQ(choose_parallel_slots(m, 0, KvCacheType::f16, 1000, 2).slots, 1);
  // Unknown memory: 4.
  EXPECT_EQ(choose_parallel_slots(m, 0, KvCacheType::f16, std::nullopt, 2).slots, 4);
}

TEST(ParallelSlots, TheContextDecidesTheKvCost) {
  // The same memory holds fewer slots of a longer context; the default context is the
  // training context capped at 4096, as the engine loads it.
  const ModelSummary m = micro(32768);
  const uint64_t memory = total(m, 4096, 4) / 3 * 4 + 4;
  const SlotChoice by_default = choose_parallel_slots(m, 0, KvCacheType::f16, memory, 2);
  EXPECT_EQ(by_default.context, 4096);
  EXPECT_EQ(by_default.slots, 4);
  EXPECT_LT(choose_parallel_slots(m, 16384, KvCacheType::f16, memory, 2).slots, 4);
  EXPECT_GT(choose_parallel_slots(m, 1024, KvCacheType::f16, memory, 2).slots, 4);
  // f32 cells cost twice the f16 ones.
  EXPECT_LT(choose_parallel_slots(m, 0, KvCacheType::f32, memory, 2).slots, 4);
}

}  // namespace
}  // namespace inference::formats
