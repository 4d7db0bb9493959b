// backends/remote/openai_protocol.hpp — the OpenAI wire format (/v1/completions and
// /v1/chat/completions, streamed): request bodies from GenerateConfig and decoding of the
// streamed chunks. Spoken by vLLM, llama-server, Ollama, `infer serve` and hosted APIs.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "backends/remote/chunk_update.hpp"
#include "inference/types.hpp"

namespace inference::remote::openai {

/// The body of a streamed /completions request. Sampling fields are sent only when they differ
/// from "off", so a strict server (api.openai.com) sees only what the caller asked for; the
/// llama.cpp/vLLM extensions (top_k, min_p, repeat_penalty, grammar, …) ride along when set.
/// Throws Error(unsupported) for what the protocol cannot carry (stop_tokens, adapter scales).
nlohmann::json completion_request(const std::string& model, std::string_view prompt,
                                  const GenerateConfig& config);
/// The body of a streamed /chat/completions request.
nlohmann::json chat_request(const std::string& model, std::span<const Message> messages,
                            const GenerateConfig& config);

/// Decodes one SSE event of either endpoint ("[DONE]" ends the stream).
void decode_event(const net::SseEvent& event, ChunkUpdate& update);

/// Maps an OpenAI finish_reason ("stop", "length", …) to ours.
FinishReason finish_reason(const nlohmann::json& choice);

/// The first entry of a non-streamed /completions answer as a Token (with logprobs when the
/// server returned them). Throws Error(backend) when the answer has no choice.
Token first_completion_token(const nlohmann::json& response);

}  // namespace inference::remote::openai
