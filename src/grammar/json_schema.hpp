// grammar/json_schema.hpp — JSON Schema (draft 2020-12 subset) and "any JSON" as GBNF.
//
// Supported keywords: type (incl. arrays of types), properties, required,
// additionalProperties (bool or schema), items, prefixItems, enum, const, anyOf, oneOf (as
// anyOf: outputs are valid when the branches do not overlap), allOf (a single schema, or object
// schemas that merge), $ref to "#", "#/$defs/…", "#/definitions/…" or any "#/…" JSON
// pointer (recursion works), $defs/definitions, minItems/maxItems, minLength/maxLength,
// pattern (see regex_to_gbnf.hpp), format date/time/date-time/uuid. Annotations (title,
// description, default, examples, $schema, $id, $comment, deprecated, readOnly, writeOnly)
// are ignored. Any other keyword is Error(unsupported) naming it and where it is.
//
// Output policy (docs/structured-output.md): properties come in the order the schema lists
// them, required ones always, optional ones may be left out; without additionalProperties an
// object with `properties` gets no other keys (a subset of what the schema allows); numbers
// have at most 16 integral digits, 16 fraction digits and 2 exponent digits (so that every number
// fits a double); between tokens at most one space, or a newline and up to 20 spaces/tabs.
#pragma once

#include <string>
#include <string_view>

namespace inference::grammar {

/// GBNF (start symbol root) for documents valid against the JSON Schema `schema_json`.
/// Throws Error(invalid_argument) for malformed JSON or schema, Error(unsupported) naming an
/// unsupported keyword.
std::string json_schema_to_gbnf(std::string_view schema_json);

/// GBNF for any JSON value (objects, arrays, strings, numbers, true, false, null).
std::string any_json_gbnf();

}  // namespace inference::grammar
