// ml/json_splice.hpp — writing one field into a JSON object line without re-serialising it,
// so every other byte of the record (key order, number formatting, escapes, spacing) is kept.
#pragma once

#include <string>
#include <string_view>

namespace inference::ml {

/// `line` must be one valid JSON object (checked by the caller). Sets top-level `key` to the
/// JSON text `value_json`: replaces the value of the key's last occurrence in place, or inserts
/// `,"key":value` before the closing brace. Throws std::invalid_argument if `line` is not an
/// object.
std::string splice_json_field(std::string_view line, std::string_view key,
                              std::string_view value_json);

}  // namespace inference::ml
