#include "ml/json_extract.hpp"

namespace inference::ml {
namespace {

// End (one past the closing brace) of the balanced object starting at text[start] == '{', or
// npos when it never closes.
size_t balanced_end(std::string_view text, size_t start) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

std::optional<nlohmann::json> first_object(std::string_view text) {
  size_t pos = 0;
  for (int tries = 0; tries < 64; ++tries) {
    const size_t open = text.find('{', pos);
    if (open == std::string_view::npos) return std::nullopt;
    const size_t end = balanced_end(text, open);
    if (end != std::string_view::npos) {
      auto value = nlohmann::json::parse(text.substr(open, end - open), nullptr, false);
      if (!value.is_discarded() && value.is_object()) return value;
    }
    pos = open + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> extract_json_object(std::string_view text) {
  // Fenced blocks first: a model that explains itself around a ```json block means the block.
  size_t pos = 0;
  while (true) {
    const size_t fence = text.find("```", pos);
    if (fence == std::string_view::npos) break;
    size_t body = text.find('\n', fence + 3);
    if (body == std::string_view::npos) break;
    const size_t close = text.find("```", body);
    const std::string_view block =
        text.substr(body, close == std::string_view::npos ? std::string_view::npos : close - body);
    if (auto v = first_object(block)) return v;
    if (close == std::string_view::npos) break;
    pos = close + 3;
  }
  return first_object(text);
}

}  // namespace inference::ml
