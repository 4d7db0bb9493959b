#include "grammar/compile.hpp"

#include "grammar/gbnf_parser.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/regex_to_gbnf.hpp"

namespace inference::grammar {

std::string constraint_gbnf(const OutputConstraint& constraint) {
  switch (constraint.kind) {
    case OutputConstraint::Kind::none:
      return "";
    case OutputConstraint::Kind::gbnf:
      return constraint.source;
    case OutputConstraint::Kind::json_schema:
      return json_schema_to_gbnf(constraint.source);
    case OutputConstraint::Kind::regex:
      return "root ::= " + regex_to_gbnf(constraint.source, RegexTarget::raw) + "\n";
    case OutputConstraint::Kind::json:
      return any_json_gbnf();
  }
  return "";
}

std::shared_ptr<const Grammar> compile_constraint(const OutputConstraint& constraint) {
  if (constraint.kind == OutputConstraint::Kind::none) return nullptr;
  return std::make_shared<const Grammar>(parse_gbnf(constraint_gbnf(constraint)));
}

}  // namespace inference::grammar
