#include "ml/jsonl_reader.hpp"

namespace inference::ml {

bool read_bounded_line(std::istream& in, std::string& out, size_t max_bytes, bool& too_long) {
  out.clear();
  too_long = false;
  bool any = false;
  std::streambuf* buf = in.rdbuf();
  if (!buf) return false;
  for (;;) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      break;
    }
    any = true;
    if (c == '\n') break;
    if (out.size() < max_bytes) {
      out.push_back(static_cast<char>(c));
    } else {
      too_long = true;  // keep consuming to the end of the line, but store nothing more
    }
  }
  if (!out.empty() && out.back() == '\r' && !too_long) out.pop_back();
  return any;
}

size_t for_each_json_line(std::istream& in,
                          const std::function<void(size_t line, std::string_view text,
                                                   nlohmann::json&& object)>& on_object,
                          std::vector<LineProblem>& problems, size_t max_bytes) {
  std::string line;
  bool too_long = false;
  size_t number = 0;
  while (read_bounded_line(in, line, max_bytes, too_long)) {
    ++number;
    if (too_long) {
      problems.push_back({number, "line longer than " + std::to_string(max_bytes) + " bytes"});
      continue;
    }
    const auto first = line.find_first_not_of(" \t\r\f\v");
    if (first == std::string::npos || line[first] == '#') continue;
    nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      problems.push_back({number, "not valid JSON"});
      continue;
    }
    if (!value.is_object()) {
      problems.push_back({number, "not a JSON object"});
      continue;
    }
    try {
      on_object(number, line, std::move(value));
    } catch (const std::exception& e) {
      problems.push_back({number, e.what()});
    }
  }
  return number;
}

}  // namespace inference::ml
