// backends/remote/llamacpp_protocol.hpp — llama-server's native /completion endpoint: every
// sampling field sent explicitly (its defaults are not ours: top_k 40, min_p 0.05, …),
// return_tokens so streamed tokens carry real ids, n_probs for logprobs and classify.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "backends/remote/chunk_update.hpp"
#include "inference/types.hpp"

namespace inference::remote::llamacpp {

/// The /completion body; `stream` false for classify.
nlohmann::json completion_request(std::string_view prompt, const GenerateConfig& config,
                                  bool stream);

/// Decodes one streamed /completion chunk into tokens with ids.
void decode_event(const net::SseEvent& event, ChunkUpdate& update);

/// The tokens of one /completion response object (streamed chunk or whole answer).
std::vector<Token> tokens_of(const nlohmann::json& chunk);

}  // namespace inference::remote::llamacpp
