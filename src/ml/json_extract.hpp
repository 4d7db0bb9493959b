// ml/json_extract.hpp — finding the JSON object in a judge model's free-text reply.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace inference::ml {

/// The first JSON object in `text`: inside a ``` fenced block (```json or bare) first, else the
/// first balanced {...} that parses, scanning with string awareness so braces inside strings do
/// not count. nullopt when there is none. Bounded work: linear in the text per candidate '{',
/// and at most 64 candidates are tried.
std::optional<nlohmann::json> extract_json_object(std::string_view text);

}  // namespace inference::ml
