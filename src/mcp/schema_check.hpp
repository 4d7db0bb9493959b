// A small JSON Schema checker for the subset our tool schemas use (type, properties, required,
// additionalProperties:false, items, enum, minimum/maximum, minLength/maxLength,
// minItems/maxItems, anyOf). Tool arguments are checked against the tool's own input schema
// before the tool runs, so a bad argument becomes an error that names the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace inference::mcp {

/// Empty when `value` satisfies `schema`; otherwise one message naming the first offending
/// field by path, e.g. "arguments.max_tokens: expected integer, got string". Recursion follows
/// the schema (ours, finite), never the value, so hostile input cannot deepen it.
std::string check_schema(const nlohmann::json& schema, const nlohmann::json& value,
                         const std::string& path = "arguments");

}  // namespace inference::mcp
