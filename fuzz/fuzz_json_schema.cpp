// Fuzz target: compile arbitrary bytes as a JSON Schema to GBNF, and the GBNF to a grammar
// (our own output must parse, or fail with an Error such as left recursion through $ref), then
// match a few JSON texts. Errors must be inference::Error; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "grammar/gbnf_parser.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/matcher.hpp"
#include "inference/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t{1} << 14)) return 0;
  const std::string source(reinterpret_cast<const char*>(data), size);
  try {
    const std::string gbnf = inference::grammar::json_schema_to_gbnf(source);
    inference::grammar::Matcher m(
        std::make_shared<const inference::grammar::Grammar>(inference::grammar::parse_gbnf(gbnf)));
    for (const char* text : {"{\"a\": [1, \"x\", null]}", "\"2024-01-01\"", "[true, 1.5e3]"})
      (void)m.matches(text);
    (void)m.matches(source);
  } catch (const inference::Error&) {
  }
  return 0;
}
