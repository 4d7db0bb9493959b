// backends/remote/anthropic_protocol.hpp — the Anthropic Messages API (/v1/messages, streamed),
// for hosted judges. Chat only: the API has no raw-prompt completion and no logprobs.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "backends/remote/chunk_update.hpp"
#include "inference/types.hpp"

namespace inference::remote::anthropic {

/// The request body. System turns become the `system` field; max_tokens is required by the
/// API, so <= 0 sends 4096. Throws Error(unsupported) for fields the API cannot carry.
nlohmann::json messages_request(const std::string& model, std::span<const Message> messages,
                                const GenerateConfig& config);

/// Decodes one event (message_start, content_block_delta, message_delta, message_stop, error).
void decode_event(const net::SseEvent& event, ChunkUpdate& update);

}  // namespace inference::remote::anthropic
