// grammar/grammar.hpp — a compiled context-free grammar over BYTES (the form every front end
// produces: GBNF, JSON Schema, regex, any-JSON).
//
// Characters are compiled to their UTF-8 byte sequences at build time, so the matcher only
// ever tests one byte against a 256-bit set: multi-byte characters, token pieces that split a
// character and byte-fallback tokens all need no special case. Layout follows llama.cpp's idea
// of flat element arrays: every alternative of every rule is a run of elements in `elems`
// terminated by an `end` element; a rule is the list of its alternatives' start indices.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace inference::grammar {

/// A set of byte values.
struct ByteSet {
  std::array<uint64_t, 4> bits{};
  bool test(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1u; }
  void set(uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }
  void set_range(uint8_t lo, uint8_t hi) {
    for (unsigned b = lo; b <= hi; ++b) set(static_cast<uint8_t>(b));
  }
  bool operator==(const ByteSet&) const = default;
};

enum class ElemKind : uint8_t {
  end,   ///< end of an alternative
  byte,  ///< one byte out of sets[value]
  ref,   ///< the rule `value`
};

struct Elem {
  ElemKind kind = ElemKind::end;
  int32_t value = 0;
};

struct Grammar {
  std::vector<Elem> elems;
  std::vector<std::vector<int32_t>> rules;  ///< per rule: start index of each alternative
  std::vector<std::string> rule_names;      ///< for error messages and debugging
  std::vector<ByteSet> sets;
  int32_t root = -1;
  /// Every string literal of the source, as bytes: a control token (e.g. `[TOOL_CALLS]`) is
  /// only offered when its text is part of such a literal.
  std::vector<std::string> literals;
};

}  // namespace inference::grammar
