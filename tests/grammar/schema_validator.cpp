#include "grammar/schema_validator.hpp"

#include <regex>

namespace inference::grammar::testing {
namespace {

using Json = nlohmann::ordered_json;

size_t codepoint_count(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::wstring widen(const std::string& s) {
  std::wstring out;
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : 4;
    uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < n && i + static_cast<size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    out.push_back(static_cast<wchar_t>(cp));
    i += static_cast<size_t>(n);
  }
  return out;
}

bool type_matches(const Json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "number") return v.is_number();
  if (t == "integer") {
    if (v.is_number_integer()) return true;
    if (v.is_number_float()) {
      const double d = v.get<double>();
      return d == static_cast<double>(static_cast<long long>(d));
    }
  }
  return false;
}

bool valid_date(const std::string& s) {
  static const std::regex re(R"(^(\d{4})-(\d{2})-(\d{2})$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > days[mo - 1]) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(mo == 2 && d == 29 && !leap);
}

bool valid_time(const std::string& s) {
  static const std::regex re(
      R"(^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([zZ]|[+-]([01]\d|2[0-3]):[0-5]\d)$)");
  return std::regex_match(s, re);
}

const Json* resolve(const std::string& ref, const Json& root) {
  if (ref == "#") return &root;
  if (ref.rfind("#/", 0) != 0) return nullptr;
  const Json* at = &root;
  size_t pos = 1;
  while (pos < ref.size()) {
    const size_t next = ref.find('/', pos + 1);
    const std::string token =
        ref.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    if (!at->is_object() || !at->contains(token)) return nullptr;
    at = &(*at)[token];
    pos = next == std::string::npos ? ref.size() : next;
  }
  return at;
}

}  // namespace

std::string validate(const Json& v, const Json& s, const Json& root) {
  if (s.is_boolean()) return s.get<bool>() ? "" : "false schema";
  if (s.contains("$ref")) {
    const Json* target = resolve(s["$ref"], root);
    if (!target) return "unresolvable $ref";
    if (auto e = validate(v, *target, root); !e.empty()) return e;
  }
  if (s.contains("type")) {
    bool ok = false;
    if (s["type"].is_string()) {
      ok = type_matches(v, s["type"]);
    } else {
      for (const auto& t : s["type"]) ok = ok || type_matches(v, t);
    }
    if (!ok) return "type " + s["type"].dump() + " does not match " + v.dump();
  }
  if (s.contains("const") && v != s["const"]) return "const mismatch: " + v.dump();
  if (s.contains("enum")) {
    bool found = false;
    for (const auto& e : s["enum"]) found = found || e == v;
    if (!found) return "not in enum: " + v.dump();
  }
  if (v.is_number()) {
    const double d = v.get<double>();
    if (s.contains("minimum") && d < s["minimum"].get<double>()) return "below minimum";
    if (s.contains("maximum") && d > s["maximum"].get<double>()) return "above maximum";
    if (s.contains("exclusiveMinimum") && d <= s["exclusiveMinimum"].get<double>())
      return "not above exclusiveMinimum";
    if (s.contains("exclusiveMaximum") && d >= s["exclusiveMaximum"].get<double>())
      return "not below exclusiveMaximum";
  }
  if (s.contains("anyOf")) {
    bool any = false;
    for (const auto& b : s["anyOf"]) any = any || validate(v, b, root).empty();
    if (!any) return "no anyOf branch matches " + v.dump();
  }
  if (s.contains("oneOf")) {
    int n = 0;
    for (const auto& b : s["oneOf"]) n += validate(v, b, root).empty();
    if (n != 1) return std::to_string(n) + " oneOf branches match " + v.dump();
  }
  if (s.contains("allOf"))
    for (const auto& b : s["allOf"])
      if (auto e = validate(v, b, root); !e.empty()) return "allOf: " + e;
  if (v.is_object()) {
    if (s.contains("required"))
      for (const auto& r : s["required"])
        if (!v.contains(r.get<std::string>())) return "missing required " + r.dump();
    for (const auto& [key, value] : v.items()) {
      if (s.contains("properties") && s["properties"].contains(key)) {
        if (auto e = validate(value, s["properties"][key], root); !e.empty()) return key + ": " + e;
      } else if (s.contains("additionalProperties")) {
        if (auto e = validate(value, s["additionalProperties"], root); !e.empty())
          return "extra key " + key + ": " + e;
      }
    }
  }
  if (v.is_array()) {
    const size_t n = v.size();
    if (s.contains("minItems") && n < s["minItems"].get<size_t>()) return "too few items";
    if (s.contains("maxItems") && n > s["maxItems"].get<size_t>()) return "too many items";
    size_t prefix = 0;
    if (s.contains("prefixItems")) {
      prefix = s["prefixItems"].size();
      for (size_t i = 0; i < n && i < prefix; ++i)
        if (auto e = validate(v[i], s["prefixItems"][i], root); !e.empty())
          return "item " + std::to_string(i) + ": " + e;
    }
    if (s.contains("items"))
      for (size_t i = prefix; i < n; ++i)
        if (auto e = validate(v[i], s["items"], root); !e.empty())
          return "item " + std::to_string(i) + ": " + e;
  }
  if (v.is_string()) {
    const std::string str = v.get<std::string>();
    const size_t len = codepoint_count(str);
    if (s.contains("minLength") && len < s["minLength"].get<size_t>()) return "too short";
    if (s.contains("maxLength") && len > s["maxLength"].get<size_t>()) return "too long";
    // Code points, not bytes: std::wregex over UTF-32 (wchar_t is 32-bit here).
    if (s.contains("pattern") &&
        !std::regex_search(widen(str), std::wregex(widen(s["pattern"].get<std::string>()),
                                                   std::regex::ECMAScript)))
      return "pattern mismatch: " + str;
    if (s.contains("format")) {
      const std::string f = s["format"];
      static const std::regex uuid(
          "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
      bool ok = true;
      if (f == "date") ok = valid_date(str);
      if (f == "time") ok = valid_time(str);
      if (f == "uuid") ok = std::regex_match(str, uuid);
      if (f == "date-time") {
        const size_t t = str.find_first_of("Tt");
        ok =
            t != std::string::npos && valid_date(str.substr(0, t)) && valid_time(str.substr(t + 1));
      }
      if (!ok) return "format " + f + " mismatch: " + str;
    }
  }
  return "";
}

}  // namespace inference::grammar::testing
