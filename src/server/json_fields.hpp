// server/json_fields.hpp — typed, range-checked reads of request JSON fields.
//
// Every reader names the field in its error (ApiError 400 with `param` set), so a client
// learns exactly what to fix. A field that is absent or JSON null reads as "not given"
// (std::nullopt): the official SDKs send null for unset optional parameters.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/api_error.hpp"

namespace inference::server {

using nlohmann::json;

/// Parses a request body: a JSON object, nesting at most `max_depth` deep. Throws ApiError
/// 400 saying where the JSON is malformed or what the body is instead of an object.
json parse_json_body(std::string_view body, int max_depth = 64);

/// "parent.key" (or "key" when `parent` is empty).
std::string field_path(const std::string& parent, std::string_view key);
/// "parent[i]".
std::string index_path(const std::string& parent, size_t i);

/// The JSON type's name as error messages use it ("string", "integer", "object", …).
std::string type_name(const json& value);

/// The member, or nullptr when absent or null.
const json* find_field(const json& object, std::string_view key);

std::optional<std::string> get_string(const json& object, std::string_view key,
                                      const std::string& parent = {});
std::optional<bool> get_bool(const json& object, std::string_view key,
                             const std::string& parent = {});
/// An integer in [min, max] (an integral float such as 16.0 is accepted).
std::optional<int64_t> get_integer(const json& object, std::string_view key, int64_t min,
                                   int64_t max, const std::string& parent = {});
/// A finite number in [min, max].
std::optional<double> get_number(const json& object, std::string_view key, double min, double max,
                                 const std::string& parent = {});

/// `value` as a string, or a 400 naming `path`.
const std::string& expect_string(const json& value, const std::string& path);
/// `value` as an object, or a 400 naming `path`.
const json& expect_object(const json& value, const std::string& path);
/// `value` as an array, or a 400 naming `path`.
const json& expect_array(const json& value, const std::string& path);

}  // namespace inference::server
