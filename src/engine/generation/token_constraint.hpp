// generation/token_constraint.hpp — the seam between a sequence's sampler and constrained
// decoding (GBNF grammars, JSON Schema, regex, any JSON).
//
// Per sampled token the generator calls mask() on the logits row before sampling (tokens that
// cannot continue a valid output become -inf; end-of-generation tokens are allowed only once the
// output is complete), then accept() with the sampled token. A constraint never allocates per
// token after construction. One instance per sequence; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "inference/types.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::generation {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  /// Sets to -infinity the logits of every token that cannot continue a valid output, and of
  /// end-of-generation tokens while the output is incomplete.
  virtual void mask(std::span<float> logits) = 0;
  /// Advances past `id` (which mask() allowed).
  virtual void accept(int32_t id) = 0;
  /// True when the output so far is complete (ending now yields a valid output).
  virtual bool complete() const = 0;
  /// True when no token can extend the output: the generator ends the stream.
  virtual bool exhausted() const = 0;
};

/// The constraint for `constraint` over `tokenizer`'s vocabulary, or null for Kind::none.
/// Throws Error(invalid_argument) naming the fault for a grammar or schema that does not
/// compile, Error(unsupported) naming the keyword for schema features we do not implement.
std::unique_ptr<TokenConstraint> make_token_constraint(const OutputConstraint& constraint,
                                                       const tokenizer::Tokenizer& tokenizer);

}  // namespace inference::generation
