// server/sse.hpp — Server-Sent Events framing and JSON text for responses.
//
// Model output is UTF-8 by contract, but a response must never fail on a stray byte: JSON is
// dumped with invalid sequences replaced (U+FFFD) instead of throwing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace inference::server {

/// Compact JSON text; invalid UTF-8 is replaced, never thrown.
std::string json_text(const nlohmann::json& value);

/// "data: <json>\n\n" — OpenAI and llama.cpp streaming.
std::string sse_data(const nlohmann::json& value);
/// "event: <name>\ndata: <json>\n\n" — Anthropic streaming.
std::string sse_event(std::string_view name, const nlohmann::json& value);
/// The OpenAI end-of-stream marker.
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

/// The UTF-8 bytes of `text` as a JSON array of numbers (OpenAI `bytes`).
nlohmann::json utf8_bytes(std::string_view text);

}  // namespace inference::server
