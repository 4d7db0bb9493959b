#include "ml/json_splice.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace inference::ml {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// End of the string starting at s[i] == '"'.
size_t string_end(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  throw std::invalid_argument("unterminated string");
}

// End of the JSON value starting at s[i] (valid JSON assumed; nesting tracked iteratively).
size_t value_end(std::string_view s, size_t i) {
  if (i >= s.size()) throw std::invalid_argument("missing value");
  if (s[i] == '"') return string_end(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = string_end(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    throw std::invalid_argument("unbalanced value");
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_space(s[i])) ++i;
  return i;
}

}  // namespace

std::string splice_json_field(std::string_view line, std::string_view key,
                              std::string_view value_json) {
  size_t i = skip_space(line, 0);
  if (i >= line.size() || line[i] != '{') throw std::invalid_argument("not a JSON object");
  const size_t open = i;
  ++i;
  size_t found_begin = std::string_view::npos, found_end = 0;
  size_t close = std::string_view::npos;
  i = skip_space(line, i);
  if (i < line.size() && line[i] == '}') close = i;
  while (close == std::string_view::npos) {
    i = skip_space(line, i);
    if (i >= line.size() || line[i] != '"') throw std::invalid_argument("expected a key");
    const size_t key_end = string_end(line, i);
    const auto decoded = nlohmann::json::parse(line.substr(i, key_end - i), nullptr, false);
    i = skip_space(line, key_end);
    if (i >= line.size() || line[i] != ':') throw std::invalid_argument("expected ':'");
    i = skip_space(line, i + 1);
    const size_t vb = i;
    i = value_end(line, i);
    if (decoded.is_string() && decoded.get<std::string>() == key) {
      found_begin = vb;
      found_end = i;
    }
    i = skip_space(line, i);
    if (i < line.size() && line[i] == ',') {
      ++i;
      continue;
    }
    if (i < line.size() && line[i] == '}') {
      close = i;
      break;
    }
    throw std::invalid_argument("expected ',' or '}'");
  }
  std::string out;
  if (found_begin != std::string_view::npos) {
    out.append(line.substr(0, found_begin));
    out.append(value_json);
    out.append(line.substr(found_end));
    return out;
  }
  const bool empty = skip_space(line, open + 1) == close;
  out.append(line.substr(0, close));
  if (!empty) out.push_back(',');
  out.append(nlohmann::json(std::string(key)).dump());  // the key, escaped
  out.push_back(':');
  out.append(value_json);
  out.append(line.substr(close));
  return out;
}

}  // namespace inference::ml
