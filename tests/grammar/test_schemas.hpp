// JSON Schemas shared by the property tests. `bounded`: every valid output is finite under
// the compiler's policy (strings/arrays have maxLength/maxItems, no open recursion), so a
// generation must complete; others are only checked to stay a valid prefix.
#pragma once

#include <vector>

namespace inference::grammar::testing {

struct TestSchema {
  const char* name;
  const char* json;
  bool bounded;
};

inline const std::vector<TestSchema>& test_schemas() {
  static const std::vector<TestSchema> s = {
      {"person",
       R"({"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer"},"admin":{"type":"boolean"}},"required":["name","age"],"additionalProperties":false})",
       true},
      {"enum_const",
       R"({"type":"object","properties":{"unit":{"enum":["celsius","fahrenheit"]},"v":{"const":"x\"y\\z\n"}},"required":["unit","v"]})",
       true},
      {"nested",
       R"({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"object","properties":{"c":{"type":"integer"},"d":{"type":"string","maxLength":3}},"required":["c"]}},"required":["b"]},"z":{"type":"null"}},"required":["a"]})",
       true},
      {"array_of_objects",
       R"({"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"tag":{"enum":["x","y"]}},"required":["id","tag"]},"minItems":1,"maxItems":3})",
       true},
      {"any_of",
       R"({"type":"object","properties":{"v":{"anyOf":[{"type":"string","maxLength":5},{"type":"integer"},{"type":"null"}]}},"required":["v"]})",
       true},
      {"type_array", R"({"type":["string","null"],"maxLength":6})", true},
      {"integer_bounds",
       R"({"type":"object","properties":{"age":{"type":"integer","minimum":0,"maximum":150},"t":{"type":"integer","exclusiveMinimum":-40,"exclusiveMaximum":1000},"n":{"type":"integer","minimum":-7}},"required":["age","t","n"],"additionalProperties":false})",
       true},
      {"prefix_items",
       R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string","maxLength":4},{"type":"boolean"}],"items":false,"minItems":2})",
       true},
      {"pattern", R"({"type":"string","pattern":"^[A-Z]{2}-[0-9]{3}(x|yz)?$"})", true},
      {"formats",
       R"({"type":"object","properties":{"d":{"type":"string","format":"date"},"t":{"type":"string","format":"time"},"dt":{"type":"string","format":"date-time"},"u":{"type":"string","format":"uuid"}},"required":["d","t","dt","u"],"additionalProperties":false})",
       true},
      {"extra_properties",
       R"({"type":"object","properties":{"name":{"type":"string","maxLength":3}},"required":["name"],"additionalProperties":{"type":"integer"}})",
       false},
      {"all_of",
       R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"$ref":"#/$defs/b"}],"$defs":{"b":{"type":"object","properties":{"b":{"type":"boolean"}},"required":["b"]}}})",
       true},
      {"one_of_disjoint",
       R"({"oneOf":[{"type":"integer"},{"type":"string","maxLength":4},{"type":"array","items":{"type":"boolean"},"maxItems":2}]})",
       true},
      {"number", R"({"type":"number"})", true},
      {"closed_empty_object", R"({"type":"object","properties":{},"additionalProperties":false})",
       true},
      {"lengths", R"({"type":"string","minLength":2,"maxLength":4})", true},
      {"fixed_pair",
       R"({"type":"array","items":{"enum":[1,"two",null,{"a":[true]}]},"minItems":2,"maxItems":2})",
       true},
      {"unicode",
       R"({"type":"object","properties":{"w":{"enum":["café","日本"]},"g":{"type":"string","pattern":"^[α-ω]{1,3}$"}},"required":["w","g"]})",
       true},
      {"defs_ref",
       R"({"$defs":{"point":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"],"additionalProperties":false}},"type":"array","items":{"$ref":"#/$defs/point"},"maxItems":3})",
       true},
      {"recursive_ref",
       R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"],"additionalProperties":false}},"$ref":"#/$defs/node"})",
       false},
      {"optional_only",
       R"({"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"},"c":{"enum":[1,2]}},"additionalProperties":false})",
       true},
      {"free_object", R"({"type":"object"})", false},
      {"any", R"({})", false},
  };
  return s;
}

}  // namespace inference::grammar::testing
