// Fuzz target: the responses JSONL reader (and what scoring does with each accepted line: the
// heuristic and exact suites, judge-reply JSON extraction, the classify splice) on arbitrary
// bytes. Bad lines are reported, never a crash, hang or unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "ml/exact_match.hpp"
#include "ml/heuristic.hpp"
#include "ml/json_extract.hpp"
#include "ml/json_splice.hpp"
#include "ml/responses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::ml;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  std::vector<LineProblem> problems;
  for_each_json_line(
      in,
      [](size_t line, std::string_view raw, nlohmann::json&& object) {
        const Response r = parse_response(object, line);
        (void)score_heuristic(r.response);
        if (r.correct_answer) (void)exact_match(r.response, *r.correct_answer);
        (void)splice_json_field(raw, "domain_1b", "\"casual\"");
      },
      problems, 4096);
  (void)extract_json_object(text);
  (void)extract_final_number(text);
  return 0;
}
