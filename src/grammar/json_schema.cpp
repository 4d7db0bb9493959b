#include "grammar/json_schema.hpp"

#include "grammar/schema_compiler.hpp"
#include "inference/error.hpp"

namespace inference::grammar {

std::string json_schema_to_gbnf(std::string_view schema_json) {
  SchemaCompiler::Json schema;
  try {
    schema = SchemaCompiler::Json::parse(schema_json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::invalid_argument,
                std::string("JSON Schema: not valid JSON: ") + e.what());
  }
  SchemaCompiler compiler;
  const std::string rule = compiler.add_document(schema, "schema");
  return compiler.gbnf(rule);
}

std::string any_json_gbnf() {
  SchemaCompiler compiler;
  return compiler.gbnf(compiler.any_value());
}

}  // namespace inference::grammar
