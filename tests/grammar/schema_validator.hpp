// A small JSON Schema validator for the tests, written independently of the schema compiler
// (it checks instances, it does not build grammars): type, properties, required,
// additionalProperties, items, prefixItems, enum, const, anyOf, oneOf (exactly one), allOf,
// $ref (local pointers), minItems/maxItems, minLength/maxLength (code points), pattern
// (std::regex ECMAScript, searched as JSON Schema specifies), format date/time/date-time/uuid.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace inference::grammar::testing {

/// Empty when `instance` is valid against `schema` (resolved inside `root`); otherwise why not.
std::string validate(const nlohmann::ordered_json& instance, const nlohmann::ordered_json& schema,
                     const nlohmann::ordered_json& root);

}  // namespace inference::grammar::testing
