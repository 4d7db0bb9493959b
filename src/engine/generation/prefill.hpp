// generation/prefill.hpp — evaluating a prompt into one sequence of the KV cache.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/engine.hpp"
#include "inference/context.hpp"

namespace inference::generation {

/// Tokens per decode call during prefill: the Context is checked between chunks, so a long
/// prompt can be cancelled part-way, and the engine's scratch stays bounded.
inline constexpr size_t kPrefillChunk = 256;

/// Makes sequence `seq` hold exactly `tokens` and writes the logits row after the last token
/// into `logits`. Keeps the longest cached prefix the sequence already has (at least the last
/// token is always evaluated, to get its logits). Returns how many tokens were reused.
/// Throws Error(invalid_argument) for an empty prompt, one that does not fit the context or
/// holds ids outside the vocabulary; Error(cancelled/deadline_exceeded) when ctx is done.
size_t prefill_sequence(engine::Engine& engine, const Context& ctx, int32_t seq,
                        std::span<const int32_t> tokens, std::vector<float>& logits);

/// Throws Error(invalid_argument) unless `tokens` is non-empty, fits the context with room for
/// one more token, and every id is in the vocabulary.
void check_prompt(const engine::Engine& engine, std::span<const int32_t> tokens);

}  // namespace inference::generation
