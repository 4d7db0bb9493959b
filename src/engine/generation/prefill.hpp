// generation/prefill.hpp — prompt checks and the prefill chunk sizes shared by the scheduler
// and classify.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/engine.hpp"

namespace inference::generation {

/// Most prompt tokens evaluated in one step when no other sequence is decoding: the Context is
/// checked between steps, so a long prompt can be cancelled part-way, and the engine's scratch
/// stays bounded.
inline constexpr size_t kPrefillChunk = 256;

/// Most prompt tokens per step while other sequences are decoding: a step's time is the
/// inter-token latency of every running stream, so a long prompt arriving must not stall them
/// for a full chunk. 16: with 8 streams on packed weights (2-core reference machine) a 32-token
/// chunk step took over 3× a decode step (p99 inter-token latency 3.05–3.2× the median), 16
/// keeps it at 2.1–2.2× for 4% less aggregate throughput (docs/PERFORMANCE.md, "Serving").
inline constexpr size_t kPrefillChunkWhileDecoding = 16;

/// Throws Error(invalid_argument) unless `tokens` is non-empty, fits the context with room for
/// one more token, and every id is in the vocabulary.
void check_prompt(std::span<const int32_t> tokens, int32_t n_vocab, int32_t context_length);
void check_prompt(const engine::Engine& engine, std::span<const int32_t> tokens);

}  // namespace inference::generation
