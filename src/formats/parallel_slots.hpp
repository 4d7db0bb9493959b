// formats/parallel_slots.hpp — how many parallel sequences (`infer serve -np`) to give a model
// when the user does not say: as many as fit in memory at the context each slot gets, up to 8.
//
// The rule (docs/server.md): slots = the largest n in 1..kMaxDefaultSlots for which
// estimate_memory(model, context per slot, n slots) — weights once, the KV cache n times, the
// compute scratch — stays within 3/4 of the available memory (the rest is left to the system
// and the server's own buffers). At least 1 (the load itself then reports what does not fit).
// The context per slot is the one the engine will use: the given one, else the model's
// training context capped at 4096. Why at most 8: a decode step carries every running stream,
// so each stream's inter-token latency grows with the slot count, and on CPUs the batch's
// weight-read saving levels off well before that.
#pragma once

#include <cstdint>
#include <optional>

#include "formats/memory_estimate.hpp"
#include "formats/model_summary.hpp"

namespace inference::formats {

inline constexpr int32_t kMaxDefaultSlots = 8;
/// The context the native engine gives a slot when none is asked for (engine.cpp's cap).
inline constexpr int64_t kDefaultContextCap = 4096;

struct SlotChoice {
  int32_t slots = 1;
  int64_t context = 0;        ///< per slot, as used for the estimate
  uint64_t total_bytes = 0;   ///< estimate_memory() at `slots`
  uint64_t budget_bytes = 0;  ///< 3/4 of the available memory
};

/// Applies the rule above. `context` 0 = the model's default; `available` = the memory to fit
/// in (nullopt: unknown, then kMaxDefaultSlots / 2). Throws what estimate_memory throws.
SlotChoice choose_parallel_slots(const ModelSummary& model, int64_t context, KvCacheType kv_type,
                                 std::optional<uint64_t> available, int64_t threads = 0);

}  // namespace inference::formats
