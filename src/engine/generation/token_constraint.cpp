#include "engine/generation/token_constraint.hpp"

#include "inference/error.hpp"

namespace inference::generation {

std::unique_ptr<TokenConstraint> make_token_constraint(const OutputConstraint& constraint,
                                                       const tokenizer::Tokenizer&) {
  if (constraint.kind == OutputConstraint::Kind::none) return nullptr;
  throw Error(ErrorCode::unsupported, "constrained decoding is not available in this build");
}

}  // namespace inference::generation
