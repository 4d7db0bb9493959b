// grammar/schema_compiler.hpp — the JSON Schema → GBNF compiler behind json_schema.hpp, with
// a rule-level API so that several schemas (a tools list) can share one grammar.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace inference::grammar {

class SchemaCompiler {
 public:
  using Json = nlohmann::ordered_json;

  /// Compiles `schema` (a whole document: its $refs resolve against it) and returns the name
  /// of the rule matching its values. `hint` seeds the rule name.
  std::string add_document(const Json& schema, const std::string& hint);
  /// The rule name matching any JSON value / any JSON string.
  std::string any_value();
  std::string any_string();
  /// The whitespace rule of the output policy (see json_schema.hpp).
  std::string whitespace() { return primitive("ws"); }
  /// A named rule of our own (for callers composing grammars, e.g. tool-call wrappers).
  std::string add_rule(const std::string& hint, const std::string& body);
  /// Replaces the body of a rule made by add_rule (for rules that refer to each other).
  void set_body(const std::string& name, const std::string& body);
  /// The rules so far, one per line, plus `root ::= root_body`.
  std::string gbnf(const std::string& root_body) const;

 private:
  std::string compile(const Json& schema, const std::string& path, const std::string& hint);
  std::string compile_object(const Json& schema, const std::string& path, const std::string& hint);
  std::string compile_array(const Json& schema, const std::string& path, const std::string& hint);
  std::string compile_string(const Json& schema, const std::string& path);
  std::string compile_ref(const std::string& ref, const std::string& path);
  std::string compile_integer_range(const Json& schema, const std::string& path);
  std::string compile_typed(const std::string& type, const Json& schema, const std::string& path,
                            const std::string& hint);
  std::string primitive(const std::string& name);
  std::string key_not_in(const std::vector<std::string>& names);
  std::string unique_name(const std::string& hint);

  std::vector<std::pair<std::string, std::string>> rules_;  // name, body (in order)
  std::set<std::string> names_;
  std::map<std::string, std::string> primitives_;
  std::map<std::string, std::string> refs_;  // "#/…" of the current document → rule
  const Json* document_ = nullptr;
  int depth_ = 0;
};

}  // namespace inference::grammar
