// grammar/grammar_builder.hpp — assembles a Grammar rule by rule (used by the GBNF parser):
// named and synthesised rules, code-point classes compiled to UTF-8 byte alternatives,
// repetition expanded into helper rules, and the final checks (undefined rules, left
// recursion, size limits) that keep the matcher terminating.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "grammar/grammar.hpp"

namespace inference::grammar {

/// A code-point range [first, second].
using CodepointRange = std::pair<uint32_t, uint32_t>;
/// A run of elements (one alternative, or a part of one).
using Sequence = std::vector<Elem>;

/// Hard limits that keep hostile grammars from exhausting memory.
inline constexpr size_t kMaxGrammarElements = size_t{1} << 21;
inline constexpr int kMaxRepetition = 10000;

class GrammarBuilder {
 public:
  /// The id of the named rule, created (undefined) on first mention.
  int32_t rule(const std::string& name);
  /// Marks a named rule as defined; false if it already was.
  bool define(int32_t rule);
  /// A fresh helper rule named after `base`.
  int32_t synthesize(const std::string& base);
  void add_alternative(int32_t rule, Sequence seq);

  /// Appends the UTF-8 bytes of `text` (one byte element each) and records it as a literal.
  void append_literal(Sequence& seq, const std::string& bytes);
  /// Appends one character out of `ranges` (or out of its complement when `negated`).
  void append_class(Sequence& seq, std::vector<CodepointRange> ranges, bool negated);
  /// Replaces `item` (the tail of `seq` from `item_start`) by item{min,max}; max < 0 = no
  /// upper bound. Throws std::length_error past the size limits.
  void repeat(Sequence& seq, size_t item_start, int min, int max, const std::string& base);

  /// The grammar with start symbol `root`. Throws Error(invalid_argument) naming an undefined
  /// rule, a left-recursive rule or a missing root.
  Grammar finish(const std::string& root);

 private:
  int32_t byte_set(const ByteSet& set);
  void check_size(size_t more);

  std::vector<std::vector<Sequence>> rules_;
  std::vector<std::string> names_;
  std::vector<bool> defined_;
  std::vector<bool> named_;
  std::map<std::string, int32_t> by_name_;
  std::vector<ByteSet> sets_;
  std::map<std::array<uint64_t, 4>, int32_t> set_ids_;
  std::map<std::vector<CodepointRange>, int32_t> class_rules_;
  std::vector<std::string> literals_;
  size_t elements_ = 0;
};

/// Sorted, merged ranges; complemented over [0, 10FFFF] when `negate`.
std::vector<CodepointRange> normalize_ranges(std::vector<CodepointRange> ranges, bool negate);

}  // namespace inference::grammar
