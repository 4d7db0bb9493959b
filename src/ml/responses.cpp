#include "ml/responses.hpp"

#include <fstream>
#include <stdexcept>

#include "inference/error.hpp"

namespace inference::ml {
namespace {

std::optional<std::string> optional_string(const nlohmann::json& o, const char* key,
                                           bool allow_number = false) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  // Answers are often numbers in GSM8K-style files; keep their JSON text.
  if (allow_number && it->is_number()) return it->dump();
  throw std::invalid_argument(std::string("field '") + key + "' must be a string");
}

}  // namespace

Response parse_response(const nlohmann::json& o, size_t line) {
  Response r;
  r.line = line;
  auto id = o.find("id");
  if (id == o.end()) throw std::invalid_argument("field 'id' is missing");
  if (id->is_string()) {
    r.id = id->get<std::string>();
  } else if (id->is_number_integer()) {
    r.id = id->dump();
  } else {
    throw std::invalid_argument("field 'id' must be a string or an integer");
  }
  if (auto v = optional_string(o, "response")) {
    r.response = *v;
    r.has_response = true;
  }
  r.prompt = optional_string(o, "prompt").value_or("");
  r.model = optional_string(o, "model").value_or("");
  r.domain = optional_string(o, "domain").value_or("");
  r.correct_answer = optional_string(o, "correct_answer", true);
  r.best_answer = optional_string(o, "best_answer", true);
  r.risk_area = optional_string(o, "risk_area");
  r.question = optional_string(o, "question").value_or("");
  if (auto it = o.find("elapsed_seconds"); it != o.end() && !it->is_null()) {
    if (!it->is_number()) throw std::invalid_argument("field 'elapsed_seconds' must be a number");
    r.elapsed_seconds = it->get<double>();
  }
  if (auto it = o.find("choices"); it != o.end() && !it->is_null()) {
    if (!it->is_array()) throw std::invalid_argument("field 'choices' must be an array");
    for (const auto& c : *it) {
      if (!c.is_string()) throw std::invalid_argument("field 'choices' must hold strings");
      r.choices.push_back(c.get<std::string>());
    }
  }
  if (auto it = o.find("answer"); it != o.end() && !it->is_null()) {
    if (!it->is_number_integer())
      throw std::invalid_argument("field 'answer' must be the index of the right choice");
    const auto a = it->get<int64_t>();
    if (a < 0 || static_cast<size_t>(a) >= r.choices.size())
      throw std::invalid_argument("field 'answer' is not an index into 'choices'");
    r.answer = static_cast<int>(a);
  }
  return r;
}

ResponseSet read_responses(std::istream& in) {
  ResponseSet set;
  set.lines = for_each_json_line(
      in,
      [&](size_t line, std::string_view, nlohmann::json&& o) {
        set.items.push_back(parse_response(o, line));
      },
      set.problems);
  return set;
}

ResponseSet read_responses(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open " + path.string());
  return read_responses(in);
}

}  // namespace inference::ml
