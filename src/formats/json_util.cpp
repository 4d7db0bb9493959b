// formats/json_util.cpp — bounded JSON parsing for file headers.
#include "formats/json_util.hpp"

#include "inference/error.hpp"

namespace inference::formats {

namespace {

// Nesting depth of `text`, counting brackets outside strings. Malformed text may give a wrong
// count, but then the parser rejects it anyway; what matters is that deep input is caught.
int max_depth(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > kMaxJsonDepth) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

void check_json_depth(std::string_view text, std::string_view source) {
  if (max_depth(text) > kMaxJsonDepth) {
    throw Error(ErrorCode::invalid_model, std::string(source) + ": JSON nested deeper than " +
                                              std::to_string(kMaxJsonDepth) + " levels");
  }
}

nlohmann::json parse_untrusted_json(std::string_view text, std::string_view source) {
  check_json_depth(text, source);
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::invalid_model, std::string(source) + ": invalid JSON: " + e.what());
  }
}

std::string json_excerpt(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

}  // namespace inference::formats
