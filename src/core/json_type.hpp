// core/json_type.hpp — what kind of JSON value a field holds, named the way error messages
// name it. Shared by every layer that validates JSON it was sent (the server's request fields,
// the MCP tool-argument schema check), so they report types in the same words. Header-only:
// only code that already uses nlohmann::json includes it.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace inference {

/// "null", "boolean", "integer", "number", "string", "array", "object" ("value" for the
/// kinds a parser never produces).
inline std::string_view json_type_name(const nlohmann::json& value) {
  using T = nlohmann::json::value_t;
  switch (value.type()) {
    case T::null:
      return "null";
    case T::boolean:
      return "boolean";
    case T::number_integer:
    case T::number_unsigned:
      return "integer";
    case T::number_float:
      return "number";
    case T::string:
      return "string";
    case T::array:
      return "array";
    case T::object:
      return "object";
    default:
      return "value";
  }
}

/// Whether `value` is an integer as JSON Schema counts them: 3 and 3.0 are, 3.5 is not; a
/// float beyond int64's range is not (converting it would be undefined).
inline bool json_is_integral(const nlohmann::json& value) {
  if (value.is_number_integer()) return true;
  if (!value.is_number_float()) return false;
  const double d = value.get<double>();
  return d > -9.0e18 && d < 9.0e18 && d == static_cast<double>(static_cast<long long>(d));
}

}  // namespace inference
