// ml/probes.hpp — our capability probes: short questions with one right answer each and a
// deterministic check (a number within 0.01 of the expected value, or a regular expression),
// applied after stripping <think>…</think> reasoning blocks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inference::ml {

struct Probe {
  std::string id;        ///< stable, e.g. "math.arith_mul"
  std::string category;  ///< math, logic, reasoning, code, word
  std::string topic;     ///< arithmetic, algebra, probability, …
  std::string prompt;
  std::optional<double> number;  ///< the expected final number, or …
  std::string pattern;           ///< … a caseless regex the answer must match
};

/// All probes, in a fixed order.
const std::vector<Probe>& all_probes();
/// The categories in a fixed order.
const std::vector<std::string>& probe_categories();

/// The reply without <think>…</think> blocks (an unclosed <think> drops the rest), trimmed.
std::string strip_think(std::string_view reply);

/// Whether `reply` (think blocks stripped) answers the probe correctly.
bool check_probe(const Probe& probe, std::string_view reply);

}  // namespace inference::ml
