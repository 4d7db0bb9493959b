#include "formats/parallel_slots.hpp"

#include <algorithm>

namespace inference::formats {

SlotChoice choose_parallel_slots(const ModelSummary& model, int64_t context, KvCacheType kv_type,
                                 std::optional<uint64_t> available, int64_t threads) {
  SlotChoice choice;
  choice.context = context > 0 ? context
                               : std::min<int64_t>(model.context_length > 0 ? model.context_length
                                                                            : kDefaultContextCap,
                                                   kDefaultContextCap);
  auto estimate = [&](int32_t slots) {
    return estimate_memory(
               model,
               {.context = choice.context, .slots = slots, .kv_type = kv_type, .threads = threads})
        .total_bytes;
  };
  if (!available) {
    choice.slots = kMaxDefaultSlots / 2;
    choice.total_bytes = estimate(choice.slots);
    return choice;
  }
  choice.budget_bytes = *available / 4 * 3;
  choice.slots = 1;
  choice.total_bytes = estimate(1);
  for (int32_t n = kMaxDefaultSlots; n > 1; --n) {
    const uint64_t bytes = estimate(n);
    if (bytes <= choice.budget_bytes) {
      choice.slots = n;
      choice.total_bytes = bytes;
      break;
    }
  }
  return choice;
}

}  // namespace inference::formats
