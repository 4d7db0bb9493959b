// server/auth.hpp — the API key check: `Authorization: Bearer KEY` (OpenAI, llama.cpp) or
// `x-api-key: KEY` (Anthropic).
#pragma once

#include <string>
#include <string_view>

namespace inference::server {

/// Whether the request's headers carry `key`. Compares in constant time, so the time taken
/// does not tell an attacker how much of a guess was right.
bool api_key_matches(std::string_view authorization_header, std::string_view x_api_key_header,
                     std::string_view key);

}  // namespace inference::server
