#include "grammar/grammar_builder.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "grammar/utf8_ranges.hpp"
#include "inference/error.hpp"

namespace inference::grammar {

std::vector<CodepointRange> normalize_ranges(std::vector<CodepointRange> ranges, bool negate) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<CodepointRange> merged;
  for (auto [lo, hi] : ranges) {
    if (lo > hi) continue;
    if (!merged.empty() && lo <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, hi);
    } else {
      merged.emplace_back(lo, hi);
    }
  }
  if (!negate) return merged;
  std::vector<CodepointRange> out;
  uint32_t next = 0;
  for (auto [lo, hi] : merged) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= 0x10FFFF) out.emplace_back(next, 0x10FFFF);
  return out;
}

int32_t GrammarBuilder::rule(const std::string& name) {
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  const int32_t id = synthesize(name);
  named_[id] = true;
  names_[id] = name;
  defined_[id] = false;
  by_name_[name] = id;
  return id;
}

bool GrammarBuilder::define(int32_t rule) {
  if (defined_[rule]) return false;
  defined_[rule] = true;
  return true;
}

int32_t GrammarBuilder::synthesize(const std::string& base) {
  const auto id = static_cast<int32_t>(rules_.size());
  rules_.emplace_back();
  names_.push_back(base + "_" + std::to_string(id));
  defined_.push_back(true);
  named_.push_back(false);
  return id;
}

void GrammarBuilder::check_size(size_t more) {
  elements_ += more;
  if (elements_ > kMaxGrammarElements)
    throw Error(ErrorCode::invalid_argument, "grammar: too large (more than " +
                                                 std::to_string(kMaxGrammarElements) +
                                                 " elements after expanding repetitions)");
}

void GrammarBuilder::add_alternative(int32_t rule, Sequence seq) {
  check_size(seq.size() + 1);
  rules_[rule].push_back(std::move(seq));
}

int32_t GrammarBuilder::byte_set(const ByteSet& set) {
  auto [it, inserted] = set_ids_.emplace(set.bits, static_cast<int32_t>(sets_.size()));
  if (inserted) sets_.push_back(set);
  return it->second;
}

void GrammarBuilder::append_literal(Sequence& seq, const std::string& bytes) {
  check_size(bytes.size());
  for (unsigned char c : bytes) {
    ByteSet s;
    s.set(c);
    seq.push_back({ElemKind::byte, byte_set(s)});
  }
  if (!bytes.empty() && literals_.size() < 100000) literals_.push_back(bytes);
}

void GrammarBuilder::append_class(Sequence& seq, std::vector<CodepointRange> ranges, bool negated) {
  ranges = normalize_ranges(std::move(ranges), negated);
  check_size(1);
  if (!ranges.empty() && ranges.back().second < 0x80) {  // ASCII only: one byte element
    ByteSet s;
    for (auto [lo, hi] : ranges) s.set_range(static_cast<uint8_t>(lo), static_cast<uint8_t>(hi));
    seq.push_back({ElemKind::byte, byte_set(s)});
    return;
  }
  // Same class, same helper rule: keeps the grammar (and the matcher's states) small.
  if (auto it = class_rules_.find(ranges); it != class_rules_.end()) {
    seq.push_back({ElemKind::ref, it->second});
    return;
  }
  const int32_t id = synthesize("char");
  class_rules_[ranges] = id;
  // Byte sequences that share their leading ranges are merged by (first range, length) only
  // when everything else is equal; plain listing is small enough for real classes.
  for (auto [lo, hi] : ranges) {
    for (const ByteRangeSeq& brs : utf8_sequences(lo, hi)) {
      Sequence alt;
      for (auto [a, b] : brs) {
        ByteSet s;
        s.set_range(a, b);
        alt.push_back({ElemKind::byte, byte_set(s)});
      }
      add_alternative(id, std::move(alt));
    }
  }
  if (rules_[id].empty()) {
    // An empty class matches nothing: a rule without alternatives.
  }
  seq.push_back({ElemKind::ref, id});
}

void GrammarBuilder::repeat(Sequence& seq, size_t item_start, int min, int max,
                            const std::string& base) {
  if (min < 0 || min > kMaxRepetition || max > kMaxRepetition || (max >= 0 && max < min))
    throw Error(ErrorCode::invalid_argument,
                "grammar: repetition {" + std::to_string(min) + "," + std::to_string(max) +
                    "} is out of range (0 <= min <= max <= " + std::to_string(kMaxRepetition) +
                    ")");
  Sequence item(seq.begin() + static_cast<std::ptrdiff_t>(item_start), seq.end());
  seq.resize(item_start);
  // Long items are referenced through one rule instead of being copied min/max times.
  if (item.size() > 1 && (min > 1 || max > 1 || max < 0)) {
    const int32_t id = synthesize(base);
    add_alternative(id, item);
    item = {{ElemKind::ref, id}};
  }
  check_size(item.size() * static_cast<size_t>(min));
  for (int i = 0; i < min; ++i) seq.insert(seq.end(), item.begin(), item.end());
  if (max < 0) {
    // R ::= item R | (empty) — right recursion, which the matcher runs as a loop.
    const int32_t r = synthesize(base);
    Sequence loop = item;
    loop.push_back({ElemKind::ref, r});
    add_alternative(r, std::move(loop));
    add_alternative(r, {});
    seq.push_back({ElemKind::ref, r});
    return;
  }
  // (item (item (item)?)?)? for the optional part, nested so that no output is ambiguous.
  int32_t inner = -1;
  for (int i = 0; i < max - min; ++i) {
    const int32_t r = synthesize(base);
    Sequence alt = item;
    if (inner >= 0) alt.push_back({ElemKind::ref, inner});
    add_alternative(r, std::move(alt));
    add_alternative(r, {});
    inner = r;
  }
  if (inner >= 0) seq.push_back({ElemKind::ref, inner});
}

Grammar GrammarBuilder::finish(const std::string& root) {
  for (size_t i = 0; i < rules_.size(); ++i)
    if (!defined_[i])
      throw Error(ErrorCode::invalid_argument,
                  "grammar: rule '" + names_[i] + "' is used but never defined");
  auto it = by_name_.find(root);
  if (it == by_name_.end())
    throw Error(ErrorCode::invalid_argument, "grammar: no '" + root + "' rule (the start symbol)");

  // Nullable rules (fixpoint), then left recursion: a rule reaching itself through the
  // leading nullable prefix of an alternative would make the matcher's expansion loop.
  const size_t n = rules_.size();
  std::vector<bool> nullable(n, false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n; ++r) {
      if (nullable[r]) continue;
      for (const Sequence& alt : rules_[r]) {
        bool all = std::all_of(alt.begin(), alt.end(), [&](const Elem& e) {
          return e.kind == ElemKind::ref && nullable[e.value];
        });
        if (all) {
          nullable[r] = true;
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<std::vector<int32_t>> leads(n);
  for (size_t r = 0; r < n; ++r)
    for (const Sequence& alt : rules_[r])
      for (const Elem& e : alt) {
        if (e.kind != ElemKind::ref) break;
        leads[r].push_back(e.value);
        if (!nullable[e.value]) break;
      }
  std::vector<uint8_t> mark(n, 0);  // 0 new, 1 on the DFS path, 2 done
  for (size_t start = 0; start < n; ++start) {
    if (mark[start]) continue;
    std::vector<std::pair<int32_t, size_t>> stack{{static_cast<int32_t>(start), 0}};
    mark[start] = 1;
    while (!stack.empty()) {
      auto& [r, i] = stack.back();
      if (i < leads[r].size()) {
        const int32_t next = leads[r][i++];
        if (mark[next] == 1)
          throw Error(ErrorCode::invalid_argument,
                      "grammar: rule '" + names_[next] +
                          "' is left-recursive (it can reach itself without consuming input)");
        if (mark[next] == 0) {
          mark[next] = 1;
          stack.emplace_back(next, 0);
        }
      } else {
        mark[r] = 2;
        stack.pop_back();
      }
    }
  }

  Grammar g;
  g.sets = sets_;
  g.rule_names = names_;
  g.root = it->second;
  g.literals = literals_;
  g.rules.resize(n);
  for (size_t r = 0; r < n; ++r) {
    for (const Sequence& alt : rules_[r]) {
      g.rules[r].push_back(static_cast<int32_t>(g.elems.size()));
      g.elems.insert(g.elems.end(), alt.begin(), alt.end());
      g.elems.push_back({ElemKind::end, 0});
    }
  }
  return g;
}

}  // namespace inference::grammar
