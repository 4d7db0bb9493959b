// grammar/compile.hpp — one entry point from an OutputConstraint (GBNF, JSON Schema, regex,
// any JSON) to a compiled Grammar.
#pragma once

#include <memory>
#include <string>

#include "grammar/grammar.hpp"
#include "inference/types.hpp"

namespace inference::grammar {

/// The GBNF source the constraint stands for (the GBNF itself for Kind::gbnf).
std::string constraint_gbnf(const OutputConstraint& constraint);

/// The compiled grammar; null for Kind::none. Throws Error(invalid_argument) naming the fault,
/// Error(unsupported) naming an unsupported schema keyword or regex feature.
std::shared_ptr<const Grammar> compile_constraint(const OutputConstraint& constraint);

}  // namespace inference::grammar
