#include "ml/probes.hpp"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "ml/exact_match.hpp"
#include "ml/pcre_regex.hpp"

namespace inference::ml {
namespace {

constexpr const char* kNum = " Answer with the number only.";

Probe num(const char* id, const char* cat, const char* topic, std::string prompt, double v) {
  return {id, cat, topic, prompt + kNum, v, ""};
}
Probe rx(const char* id, const char* cat, const char* topic, std::string prompt,
         const char* pattern) {
  return {id, cat, topic, std::move(prompt), std::nullopt, pattern};
}

const PcreRegex& compiled(const std::string& pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<PcreRegex>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[pattern];
  if (!slot) slot = std::make_unique<PcreRegex>(pattern);
  return *slot;
}

}  // namespace

const std::vector<Probe>& all_probes() {
  static const std::vector<Probe> probes = {
      num("math.arith_mul", "math", "arithmetic", "What is 347 multiplied by 28?", 9716),
      num("math.arith_mixed", "math", "arithmetic", "What is 1,000 - 457 + 32?", 575),
      num("math.algebra_linear", "math", "algebra", "Solve for x: 3x + 7 = 31.", 8),
      num("math.algebra_two_step", "math", "algebra", "If 5y - 9 = 26, what is y?", 7),
      rx("math.probability_die", "math", "probability",
         "A fair six-sided die is rolled once. What is the probability of rolling a number "
         "greater than 4? Give the answer as a fraction.",
         "\\b1\\s*/\\s*3\\b|\\b2\\s*/\\s*6\\b|one[- ]third|\\b0?\\.333?\\b"),
      num("math.geometry_area", "math", "geometry",
          "What is the area, in square centimetres, of a rectangle 12 cm long and 7 cm wide?", 84),
      num("math.geometry_hypotenuse", "math", "geometry",
          "A right triangle has legs of length 6 and 8. How long is its hypotenuse?", 10),
      num("math.sequence_next", "math", "sequences",
          "What is the next number in the sequence 2, 6, 12, 20, 30, ...?", 42),
      num("math.percent_of", "math", "percentages", "What is 15% of 240?", 36),
      num("math.percent_increase", "math", "percentages",
          "A price of 80 is raised by 25%. What is the new price?", 100),
      rx("logic.syllogism", "logic", "deduction",
         "All bloops are razzies. All razzies are lazzies. Is every bloop a lazzie? Answer yes "
         "or no.",
         "^\\W*yes\\b"),
      rx("logic.ordering", "logic", "deduction",
         "Alice is taller than Bob. Bob is taller than Carol. Who is the shortest? Answer with "
         "the name only.",
         "\\bcarol\\b"),
      num("logic.set_union", "logic", "sets",
          "Set A = {1, 2, 3, 4} and set B = {3, 4, 5}. How many elements does the union of A and "
          "B have?",
          5),
      num("logic.set_intersection", "logic", "sets",
          "How many elements are in the intersection of {2, 4, 6, 8} and {4, 8, 12}?", 2),
      num("logic.bat_ball", "logic", "puzzles",
          "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. How many "
          "cents does the ball cost?",
          5),
      rx("reasoning.analogy", "reasoning", "analogy",
         "Hot is to cold as up is to what? Answer with one word.", "\\bdown\\b"),
      rx("reasoning.causal", "reasoning", "causal",
         "A glass is dropped onto a stone floor from head height. What most likely happens to "
         "the glass? Answer in one word.",
         "\\b(?:break|breaks|broken|shatter|shatters|shattered|smash|smashes)\\b"),
      rx("reasoning.spatial", "reasoning", "spatial",
         "You are facing north and turn 90 degrees clockwise. Which direction are you facing "
         "now? Answer with one word.",
         "\\beast\\b"),
      rx("reasoning.weekday", "reasoning", "temporal",
         "If today is Wednesday, what day of the week will it be in 10 days? Answer with the "
         "day only.",
         "\\bsaturday\\b"),
      rx("reasoning.clock", "reasoning", "temporal",
         "A meeting starts at 14:30 and lasts 95 minutes. At what time does it end? Answer as "
         "HH:MM.",
         "\\b16[:.]05\\b"),
      rx("reasoning.letters", "reasoning", "pattern",
         "What letter comes next in the sequence A, C, E, G, ...? Answer with the letter only.",
         "^\\W*(?:the (?:next )?letter is\\W*)?i\\W*$"),
      num("code.python_comprehension", "code", "code",
          "What does this Python code print?\nprint(len([x for x in range(10) if x % 3 == 0]))", 4),
      num("code.c_integer_division", "code", "code",
          "In C, what is the value of x after: int x = 7; x = x / 2 * 2;", 6),
      rx("code.python_slice", "code", "code",
         "What does the Python expression 'abc'[::-1] evaluate to? Answer with the value only.",
         "\\bcba\\b"),
      num("word.apples", "word", "word problems",
          "Tom has 3 boxes with 12 apples in each. He gives away 10 apples. How many apples does "
          "he have left?",
          26),
      num("word.train", "word", "word problems",
          "A train travels at 60 km per hour for 2.5 hours. How many kilometres does it travel?",
          150),
  };
  return probes;
}

const std::vector<std::string>& probe_categories() {
  static const std::vector<std::string> c = {"math", "logic", "reasoning", "code", "word"};
  return c;
}

std::string strip_think(std::string_view reply) {
  std::string out;
  size_t pos = 0;
  while (pos < reply.size()) {
    const size_t open = reply.find("<think>", pos);
    if (open == std::string_view::npos) {
      out.append(reply.substr(pos));
      break;
    }
    out.append(reply.substr(pos, open - pos));
    const size_t close = reply.find("</think>", open);
    if (close == std::string_view::npos) break;  // unfinished reasoning: no answer after it
    pos = close + 8;
  }
  // A reply that only closes a block (the template opened it) keeps what follows the close.
  if (const size_t close = out.find("</think>"); close != std::string::npos)
    out = out.substr(close + 8);
  const auto b = out.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = out.find_last_not_of(" \t\r\n");
  return out.substr(b, e - b + 1);
}

bool check_probe(const Probe& probe, std::string_view reply) {
  const std::string answer = strip_think(reply);
  if (answer.empty()) return false;
  if (probe.number) {
    const auto v = extract_final_number(answer);
    return v && std::fabs(*v - *probe.number) <= 0.01;
  }
  return compiled(probe.pattern).search(answer);
}

}  // namespace inference::ml
