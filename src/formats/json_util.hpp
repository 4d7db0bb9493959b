// formats/json_util.hpp — parsing untrusted JSON (config.json, Safetensors headers) safely.
// Private to the formats module: nlohmann_json is not part of any public header.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace inference::formats {

/// Deepest nesting accepted: real headers and configs nest 3-4 levels; a bound keeps a hostile
/// "[[[[…" from exhausting the stack in the recursive destructor of nlohmann::json.
inline constexpr int kMaxJsonDepth = 64;

/// Parses `text`; throws Error(invalid_model) "<source>: invalid JSON …" on a syntax error or on
/// nesting deeper than kMaxJsonDepth.
nlohmann::json parse_untrusted_json(std::string_view text, std::string_view source);

/// Throws Error(invalid_model) if `text` nests arrays/objects deeper than kMaxJsonDepth.
void check_json_depth(std::string_view text, std::string_view source);

/// A short rendering of a value for error messages (at most ~60 characters).
std::string json_excerpt(const nlohmann::json& value);

}  // namespace inference::formats
