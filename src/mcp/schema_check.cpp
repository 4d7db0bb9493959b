#include "mcp/schema_check.hpp"

#include <string_view>

#include "core/json_type.hpp"

namespace inference::mcp {
namespace {

using json = nlohmann::json;

std::string type_of(const json& v) {
  return std::string(json_type_name(v));
}

bool has_type(const json& v, std::string_view type) {
  if (type == "number") return v.is_number();
  if (type == "integer") return json_is_integral(v);  // 3.0 is an integer in JSON Schema
  return type_of(v) == type;
}

std::string check_type(const json& schema, const json& value, const std::string& path) {
  auto it = schema.find("type");
  if (it == schema.end()) return {};
  std::string wanted;
  if (it->is_string()) {
    if (has_type(value, it->get<std::string>())) return {};
    wanted = it->get<std::string>();
  } else if (it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string() && has_type(value, t.get<std::string>())) return {};
      if (!wanted.empty()) wanted += " or ";
      wanted += t.is_string() ? t.get<std::string>() : "?";
    }
  } else {
    return {};
  }
  return path + ": expected " + wanted + ", got " + type_of(value);
}

std::string check_object(const json& schema, const json& value, const std::string& path) {
  if (auto req = schema.find("required"); req != schema.end() && req->is_array()) {
    for (const auto& name : *req) {
      if (name.is_string() && !value.contains(name.get<std::string>())) {
        return path + ": missing required field \"" + name.get<std::string>() + "\"";
      }
    }
  }
  auto props = schema.find("properties");
  bool closed = schema.value("additionalProperties", true) == false;
  for (const auto& [key, item] : value.items()) {
    if (props != schema.end() && props->contains(key)) {
      auto error = check_schema((*props)[key], item, path + "." + key);
      if (!error.empty()) return error;
    } else if (closed) {
      return path + ": unknown field \"" + key + "\"";
    }
  }
  return {};
}

std::string check_array(const json& schema, const json& value, const std::string& path) {
  if (auto it = schema.find("minItems"); it != schema.end() && it->is_number_integer() &&
                                         *it >= 0 && value.size() < it->get<std::size_t>()) {
    return path + ": needs at least " + std::to_string(it->get<std::size_t>()) + " items";
  }
  if (auto it = schema.find("maxItems"); it != schema.end() && it->is_number_integer() &&
                                         *it >= 0 && value.size() > it->get<std::size_t>()) {
    return path + ": at most " + std::to_string(it->get<std::size_t>()) + " items allowed";
  }
  if (auto items = schema.find("items"); items != schema.end() && items->is_object()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      auto error = check_schema(*items, value[i], path + "[" + std::to_string(i) + "]");
      if (!error.empty()) return error;
    }
  }
  return {};
}

std::string check_scalar(const json& schema, const json& value, const std::string& path) {
  if (value.is_number()) {
    double d = value.get<double>();
    if (auto it = schema.find("minimum");
        it != schema.end() && it->is_number() && d < it->get<double>()) {
      return path + ": must be at least " + it->dump();
    }
    if (auto it = schema.find("maximum");
        it != schema.end() && it->is_number() && d > it->get<double>()) {
      return path + ": must be at most " + it->dump();
    }
  }
  if (value.is_string()) {
    auto n = value.get_ref<const std::string&>().size();
    if (auto it = schema.find("minLength");
        it != schema.end() && it->is_number_integer() && *it >= 0 && n < it->get<std::size_t>()) {
      return path + ": must be at least " + it->dump() + " characters";
    }
    if (auto it = schema.find("maxLength");
        it != schema.end() && it->is_number_integer() && *it >= 0 && n > it->get<std::size_t>()) {
      return path + ": must be at most " + it->dump() + " characters";
    }
  }
  return {};
}

}  // namespace

std::string check_schema(const json& schema, const json& value, const std::string& path) {
  if (!schema.is_object()) return {};
  if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array()) {
    std::string first;
    for (const auto& option : *any) {
      auto error = check_schema(option, value, path);
      if (error.empty()) return {};
      if (first.empty()) first = error;
    }
    return first;
  }
  if (auto error = check_type(schema, value, path); !error.empty()) return error;
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    bool found = false;
    for (const auto& option : *it) found = found || option == value;
    if (!found) return path + ": must be one of " + it->dump();
  }
  if (value.is_object()) return check_object(schema, value, path);
  if (value.is_array()) return check_array(schema, value, path);
  return check_scalar(schema, value, path);
}

}  // namespace inference::mcp
