// server/prompt_budget.hpp — prompt token counts and the context check done before a request
// is admitted, so that a prompt + max_tokens over the context is a 400 naming both numbers,
// never a silently cut prompt or a stream that fails after its 200 was sent.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "inference/types.hpp"
#include "server/server_state.hpp"

namespace inference::server {

/// Tokens of the chat prompt the model's template renders for `messages` (BOS once, as the
/// native backend encodes it), or -1 when the model has no tokenizer capability. A template
/// that rejects the conversation is a 400 with the template's message.
int64_t count_chat_tokens(const ServerState& state, std::span<const Message> messages);
/// Tokens of an already rendered chat prompt (BOS once), or -1 without a tokenizer.
int64_t count_rendered_chat_tokens(const ServerState& state, const std::string& rendered);
/// Tokens of a raw-text prompt (with the tokenizer's BOS rule), or -1 without a tokenizer.
int64_t count_text_tokens(const ServerState& state, const std::string& text);

/// The max_tokens to generate with: `requested`, or what is left of the context when not
/// given. Throws ApiError 400 (code context_length_exceeded) when the prompt alone fills the
/// context or prompt + requested exceeds it. `prompt_tokens` < 0 (unknown) skips the check.
int32_t fit_to_context(const ServerState& state, int64_t prompt_tokens,
                       std::optional<int64_t> requested, ApiStyle style,
                       const std::string& prompt_param);

}  // namespace inference::server
