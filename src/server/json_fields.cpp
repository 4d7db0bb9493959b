#include "server/json_fields.hpp"

#include <cmath>

#include "core/json_type.hpp"

namespace inference::server {

namespace {

// nlohmann's parser keeps its own stack, but destroying and dumping values recurse: a body of
// a million '[' would overflow the stack there. Scanning the depth first is cheap.
void check_depth(std::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
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
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        throw ApiError(400, "the request body nests JSON deeper than " + std::to_string(max_depth) +
                                " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

[[noreturn]] void wrong_type(const std::string& path, const char* expected, const json& value) {
  throw bad_field(path, "'" + path + "' must be " + expected + ", got " + type_name(value));
}

}  // namespace

json parse_json_body(std::string_view body, int max_depth) {
  if (body.empty()) throw ApiError(400, "the request body is empty (expected a JSON object)");
  check_depth(body, max_depth);
  json value;
  try {
    value = json::parse(body);
  } catch (const json::parse_error& e) {
    throw ApiError(400, "the request body is not valid JSON (byte " + std::to_string(e.byte) +
                            "): " + e.what());
  } catch (const json::exception& e) {
    // e.g. out_of_range 406: a number too large for a double ("1e999").
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!value.is_object())
    throw ApiError(400, "the request body must be a JSON object, got " + type_name(value));
  return value;
}

std::string field_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

std::string type_name(const json& value) {
  return std::string(json_type_name(value));
}

const json* find_field(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> get_string(const json& object, std::string_view key,
                                      const std::string& parent) {
  const json* v = find_field(object, key);
  if (!v) return std::nullopt;
  return expect_string(*v, field_path(parent, key));
}

std::optional<bool> get_bool(const json& object, std::string_view key, const std::string& parent) {
  const json* v = find_field(object, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) wrong_type(field_path(parent, key), "a boolean", *v);
  return v->get<bool>();
}

std::optional<int64_t> get_integer(const json& object, std::string_view key, int64_t min,
                                   int64_t max, const std::string& parent) {
  const json* v = find_field(object, key);
  if (!v) return std::nullopt;
  const std::string path = field_path(parent, key);
  int64_t value = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(max))
      throw bad_field(path, "'" + path + "' must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + ", got " + std::to_string(u));
    value = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    value = v->get<int64_t>();
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) wrong_type(path, "an integer", *v);
    // Checked before the conversion: casting a double outside int64's range is undefined.
    if (!(std::fabs(d) < 9.0e18) || d < static_cast<double>(min) || d > static_cast<double>(max))
      throw bad_field(path, "'" + path + "' must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + ", got " + v->dump());
    value = static_cast<int64_t>(d);
  } else {
    wrong_type(path, "an integer", *v);
  }
  if (value < min || value > max)
    throw bad_field(path, "'" + path + "' must be between " + std::to_string(min) + " and " +
                              std::to_string(max) + ", got " + std::to_string(value));
  return value;
}

std::optional<double> get_number(const json& object, std::string_view key, double min, double max,
                                 const std::string& parent) {
  const json* v = find_field(object, key);
  if (!v) return std::nullopt;
  const std::string path = field_path(parent, key);
  if (!v->is_number()) wrong_type(path, "a number", *v);
  const double value = v->get<double>();
  if (!std::isfinite(value) || value < min || value > max) {
    json lo = min, hi = max;
    throw bad_field(path, "'" + path + "' must be between " + lo.dump() + " and " + hi.dump() +
                              ", got " + v->dump());
  }
  return value;
}

const std::string& expect_string(const json& value, const std::string& path) {
  if (!value.is_string()) wrong_type(path, "a string", value);
  return value.get_ref<const std::string&>();
}

const json& expect_object(const json& value, const std::string& path) {
  if (!value.is_object()) wrong_type(path, "an object", value);
  return value;
}

const json& expect_array(const json& value, const std::string& path) {
  if (!value.is_array()) wrong_type(path, "an array", value);
  return value;
}

}  // namespace inference::server
