#include "grammar/schema_compiler.hpp"

#include <algorithm>
#include <cmath>

#include "grammar/gbnf_text.hpp"
#include "grammar/grammar_builder.hpp"
#include "grammar/integer_range.hpp"
#include "grammar/regex_to_gbnf.hpp"
#include "inference/error.hpp"

namespace inference::grammar {
namespace {

constexpr int kMaxSchemaDepth = 64;

const std::set<std::string>& supported_keywords() {
  static const std::set<std::string> s = {"type",
                                          "properties",
                                          "required",
                                          "additionalProperties",
                                          "items",
                                          "prefixItems",
                                          "enum",
                                          "const",
                                          "anyOf",
                                          "oneOf",
                                          "allOf",
                                          "$ref",
                                          "$defs",
                                          "definitions",
                                          "minItems",
                                          "maxItems",
                                          "minLength",
                                          "maxLength",
                                          "pattern",
                                          "format",
                                          "minimum",
                                          "maximum",
                                          "exclusiveMinimum",
                                          "exclusiveMaximum"};
  return s;
}

const std::set<std::string>& annotation_keywords() {
  static const std::set<std::string> s = {
      "title",    "description", "default",  "examples",  "$schema",          "$id",
      "$comment", "deprecated",  "readOnly", "writeOnly", "contentMediaType", "contentEncoding"};
  return s;
}

// Primitive rule bodies. Bounded digit counts keep every number finite, so a sampler that never
// "wants" to stop still produces a complete value.
const std::map<std::string, std::string>& primitive_bodies() {
  static const std::map<std::string, std::string> p = {
      {"ws", R"(| " " | "\n" [ \t]{0,20})"},
      {"char", R"([^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}))"},
      {"string", R"("\"" char* "\"")"},
      {"number", R"("-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?)"},
      {"integer", R"("-"? ("0" | [1-9] [0-9]{0,15}))"},
      {"boolean", R"("true" | "false")"},
      {"null", R"("null")"},
      {"value", R"(object | array | string | number | boolean | null)"},
      {"object", R"("{" ws (string ws ":" ws value (ws "," ws string ws ":" ws value)* ws)? "}")"},
      {"array", R"("[" ws (value (ws "," ws value)* ws)? "]")"},
      {"date-body",
       R"([0-9]{4} "-" (("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8])))"},
      {"time-body",
       R"(([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9]))"},
      {"date", R"("\"" date-body "\"")"},
      {"time", R"("\"" time-body "\"")"},
      {"date-time", R"("\"" date-body "T" time-body "\"")"},
      {"uuid",
       R"("\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12} "\"")"},
  };
  return p;
}

// The primitives each primitive refers to (emitted together).
const std::map<std::string, std::vector<std::string>>& primitive_deps() {
  static const std::map<std::string, std::vector<std::string>> d = {
      {"string", {"char"}},
      {"value", {"object", "array", "string", "number", "boolean", "null"}},
      {"object", {"ws", "string", "value"}},
      {"array", {"ws", "value"}},
      {"date", {"date-body"}},
      {"time", {"time-body"}},
      {"date-time", {"date-body", "time-body"}},
  };
  return d;
}

std::string describe(const std::string& path) {
  return path.empty() ? "#" : "#" + path;
}

[[noreturn]] void invalid(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "JSON Schema at '" + describe(path) + "': " + what);
}

[[noreturn]] void unsupported(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::unsupported,
              "JSON Schema at '" + describe(path) + "': " + what + " is not supported");
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

int count_keyword(const SchemaCompiler::Json& schema, const char* key, const std::string& path) {
  const auto& v = schema.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < 0)
    invalid(path, std::string("'") + key + "' must be a non-negative integer");
  if (v.get<int64_t>() > kMaxRepetition)
    unsupported(path, std::string("'") + key + "' above " + std::to_string(kMaxRepetition));
  return static_cast<int>(v.get<int64_t>());
}

std::vector<uint32_t> codepoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : 4;
    uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < n && i + static_cast<size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    out.push_back(cp);
    i += static_cast<size_t>(n);
  }
  return out;
}

}  // namespace

std::string SchemaCompiler::unique_name(const std::string& hint) {
  std::string base;
  for (char c : hint) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    base += word ? c : '-';
    if (base.size() >= 40) break;
  }
  if (base.empty() || base[0] == '-') base = "r" + base;
  if (primitive_bodies().count(base) || base == "root") base += "-";
  std::string name = base;
  for (int i = 1; names_.count(name); ++i) name = base + std::to_string(i);
  names_.insert(name);
  return name;
}

std::string SchemaCompiler::add_rule(const std::string& hint, const std::string& body) {
  std::string name = unique_name(hint);
  rules_.emplace_back(name, body);
  return name;
}

void SchemaCompiler::set_body(const std::string& name, const std::string& body) {
  for (auto& rule : rules_)
    if (rule.first == name) rule.second = body;
}

std::string SchemaCompiler::primitive(const std::string& name) {
  if (primitives_.count(name)) return name;
  primitives_[name] = primitive_bodies().at(name);
  if (auto it = primitive_deps().find(name); it != primitive_deps().end())
    for (const std::string& dep : it->second) primitive(dep);
  return name;
}

std::string SchemaCompiler::any_value() {
  return primitive("value");
}
std::string SchemaCompiler::any_string() {
  return primitive("string");
}

std::string SchemaCompiler::gbnf(const std::string& root_body) const {
  std::string out = "root ::= " + root_body + "\n";
  for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
  for (const auto& [name, body] : primitives_) out += name + " ::= " + body + "\n";
  return out;
}

std::string SchemaCompiler::add_document(const Json& schema, const std::string& hint) {
  refs_.clear();
  document_ = &schema;
  std::string rule = compile(schema, "", hint);
  document_ = nullptr;
  return rule;
}

std::string SchemaCompiler::compile(const Json& schema, const std::string& path,
                                    const std::string& hint) {
  if (schema.is_boolean()) {
    if (schema.get<bool>()) return any_value();
    invalid(path, "the schema 'false' matches nothing");
  }
  if (!schema.is_object()) invalid(path, "a schema must be an object or a boolean");
  if (depth_ >= kMaxSchemaDepth) unsupported(path, "nesting deeper than 64 levels");
  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& depth) : d(depth) { ++d; }
    ~DepthGuard() { --d; }
  } guard(depth_);

  std::vector<std::string> constraints;  // constraint keywords present, for combination checks
  for (const auto& [key, value] : schema.items()) {
    if (annotation_keywords().count(key)) continue;
    if (!supported_keywords().count(key)) unsupported(path, "keyword '" + key + "'");
    if (key != "$defs" && key != "definitions") constraints.push_back(key);
  }
  auto only = [&](const std::string& keyword) {
    for (const std::string& k : constraints)
      if (k != keyword) unsupported(path, "'" + k + "' next to '" + keyword + "'");
  };

  if (schema.contains("$ref")) {
    only("$ref");
    if (!schema["$ref"].is_string()) invalid(path, "'$ref' must be a string");
    return compile_ref(schema["$ref"].get<std::string>(), path);
  }
  // enum/const next to `type` (as in {"type": "string", "enum": [...]}): the values that also
  // have one of the types.
  auto type_allows = [&](const Json& v) {
    if (!schema.contains("type")) return true;
    std::vector<std::string> types;
    if (schema["type"].is_string()) types.push_back(schema["type"].get<std::string>());
    if (schema["type"].is_array())
      for (const auto& t : schema["type"])
        if (t.is_string()) types.push_back(t.get<std::string>());
    for (const std::string& t : types) {
      if ((t == "string" && v.is_string()) || (t == "object" && v.is_object()) ||
          (t == "array" && v.is_array()) || (t == "boolean" && v.is_boolean()) ||
          (t == "null" && v.is_null()) || (t == "number" && v.is_number()) ||
          (t == "integer" && v.is_number_integer()))
        return true;
    }
    return false;
  };
  auto only_with_type = [&](const std::string& keyword) {
    for (const std::string& k : constraints)
      if (k != keyword && k != "type") unsupported(path, "'" + k + "' next to '" + keyword + "'");
  };
  if (schema.contains("const")) {
    only_with_type("const");
    if (!type_allows(schema["const"])) invalid(path, "'const' does not have the schema's type");
    return gbnf_literal(schema["const"].dump());
  }
  if (schema.contains("enum")) {
    only_with_type("enum");
    const auto& values = schema["enum"];
    if (!values.is_array() || values.empty()) invalid(path, "'enum' must be a non-empty array");
    std::string body;
    for (const auto& v : values)
      if (type_allows(v)) body += (body.empty() ? "" : " | ") + gbnf_literal(v.dump());
    if (body.empty()) invalid(path, "no 'enum' value has the schema's type");
    return "(" + body + ")";
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key)) continue;
    only(key);
    const auto& branches = schema[key];
    if (!branches.is_array() || branches.empty())
      invalid(path, std::string("'") + key + "' must be a non-empty array");
    std::string body;
    for (size_t i = 0; i < branches.size(); ++i)
      body += (body.empty() ? "" : " | ") +
              compile(branches[i], path + "/" + key + "/" + std::to_string(i), hint);
    return add_rule(hint, body);
  }
  if (schema.contains("allOf")) {
    only("allOf");
    const auto& parts = schema["allOf"];
    if (!parts.is_array() || parts.empty()) invalid(path, "'allOf' must be a non-empty array");
    if (parts.size() == 1) return compile(parts[0], path + "/allOf/0", hint);
    // Object schemas merge: properties and required are unions. The merged object carries
    // only declared keys, which every open branch allows; a closed branch
    // (additionalProperties: false) must declare every merged key, or nothing satisfies allOf.
    Json merged = {{"type", "object"},
                   {"properties", Json::object()},
                   {"required", Json::array()},
                   {"additionalProperties", false}};
    std::vector<std::pair<size_t, const Json*>> closed;
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string where = path + "/allOf/" + std::to_string(i);
      const Json* part = &parts[i];
      for (int hops = 0; part->is_object() && part->contains("$ref") && hops < 32; ++hops) {
        const std::string ref =
            (*part)["$ref"].is_string() ? (*part)["$ref"].get<std::string>() : "";
        if (ref.rfind("#", 0) != 0 || !document_) unsupported(where, "'$ref' to '" + ref + "'");
        const Json* target = document_;
        size_t at = 1;
        while (at < ref.size()) {
          size_t next = ref.find('/', at + 1);
          std::string token =
              ref.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
          at = next == std::string::npos ? ref.size() : next;
          if (!target->is_object() || !target->contains(token))
            invalid(where, "'$ref' '" + ref + "' does not resolve");
          target = &(*target)[token];
        }
        part = target;
      }
      if (!part->is_object()) unsupported(where, "allOf of non-object schemas");
      for (const auto& [key, value] : part->items()) {
        if (annotation_keywords().count(key)) continue;
        if (key == "type") {
          if (value != "object") unsupported(where, "allOf of non-object schemas");
        } else if (key == "properties" && value.is_object()) {
          for (const auto& [name, sub] : value.items()) {
            if (merged["properties"].contains(name))
              unsupported(where, "allOf declaring property '" + name + "' twice");
            merged["properties"][name] = sub;
          }
        } else if (key == "required" && value.is_array()) {
          for (const auto& r : value) merged["required"].push_back(r);
        } else if (key == "additionalProperties" && value.is_boolean()) {
          if (!value.get<bool>()) closed.emplace_back(i, part);
        } else {
          unsupported(where, "keyword '" + key + "' inside allOf");
        }
      }
    }
    for (const auto& [i, part] : closed) {
      for (const auto& [name, sub] : merged["properties"].items()) {
        const bool declared = part->contains("properties") && (*part)["properties"].contains(name);
        if (!declared)
          invalid(path + "/allOf/" + std::to_string(i),
                  "additionalProperties: false forbids property '" + name +
                      "' that another allOf branch declares (nothing can satisfy both)");
      }
    }
    return compile_object(merged, path, hint);
  }

  std::vector<std::string> types;
  if (schema.contains("type")) {
    const auto& t = schema["type"];
    if (t.is_string()) {
      types.push_back(t.get<std::string>());
    } else if (t.is_array() && !t.empty()) {
      for (const auto& item : t) {
        if (!item.is_string()) invalid(path, "'type' entries must be strings");
        types.push_back(item.get<std::string>());
      }
    } else {
      invalid(path, "'type' must be a string or a non-empty array of strings");
    }
  } else {
    auto has = [&](std::initializer_list<const char*> keys) {
      return std::any_of(keys.begin(), keys.end(),
                         [&](const char* k) { return schema.contains(k); });
    };
    if (has({"properties", "additionalProperties", "required"})) types.push_back("object");
    if (has({"items", "prefixItems", "minItems", "maxItems"})) types.push_back("array");
    if (has({"minLength", "maxLength", "pattern", "format"})) types.push_back("string");
    // Bounds alone: integers in range (a subset of what the schema allows).
    if (has({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}))
      types.push_back("integer");
    if (types.empty()) return any_value();
  }
  if (types.size() == 1) return compile_typed(types[0], schema, path, hint);
  std::string body;
  for (const std::string& t : types)
    body += (body.empty() ? "" : " | ") + compile_typed(t, schema, path, hint);
  return add_rule(hint, body);
}

std::string SchemaCompiler::compile_typed(const std::string& type, const Json& schema,
                                          const std::string& path, const std::string& hint) {
  if (type == "object") return compile_object(schema, path, hint);
  if (type == "array") return compile_array(schema, path, hint);
  if (type == "string") return compile_string(schema, path);
  for (const char* bound : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
    if (!schema.contains(bound)) continue;
    if (type == "integer") return compile_integer_range(schema, path);
    if (type == "number")
      unsupported(path,
                  std::string("'") + bound + "' on numbers (bounds are supported on integers)");
  }
  if (type == "number" || type == "integer" || type == "boolean" || type == "null")
    return primitive(type);
  invalid(path, "unknown type '" + type + "'");
}

std::string SchemaCompiler::compile_integer_range(const Json& schema, const std::string& path) {
  // The integers x with minimum <= x <= maximum, exclusiveMinimum < x < exclusiveMaximum.
  std::optional<int64_t> lo, hi;
  auto bound = [&](const char* key, bool lower, bool exclusive) {
    if (!schema.contains(key)) return;
    const Json& v = schema[key];
    if (!v.is_number()) invalid(path, std::string("'") + key + "' must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) invalid(path, std::string("'") + key + "' must be finite");
    const double limit = static_cast<double>(kMaxSchemaInteger) + 1.0;
    double edge = lower ? (exclusive ? std::floor(d) + 1.0 : std::ceil(d))
                        : (exclusive ? std::ceil(d) - 1.0 : std::floor(d));
    edge = std::clamp(edge, -limit, limit);
    const auto value = static_cast<int64_t>(edge);
    if (lower)
      lo = lo ? std::max(*lo, value) : value;
    else
      hi = hi ? std::min(*hi, value) : value;
  };
  bound("minimum", true, false);
  bound("exclusiveMinimum", true, true);
  bound("maximum", false, false);
  bound("exclusiveMaximum", false, true);
  if ((lo && *lo > kMaxSchemaInteger) || (hi && *hi < -kMaxSchemaInteger))
    unsupported(path, "integer bounds beyond 16 digits");
  if (lo && hi && *lo > *hi) invalid(path, "no integer satisfies the minimum and maximum");
  return integer_range_gbnf(lo, hi);
}

std::string SchemaCompiler::compile_ref(const std::string& ref, const std::string& path) {
  if (ref.empty() || ref[0] != '#' || !document_)
    unsupported(path, "'$ref' to '" + ref + "' (only references inside the document)");
  if (auto it = refs_.find(ref); it != refs_.end()) return it->second;
  // Resolve the JSON pointer after '#'.
  const Json* target = document_;
  std::string target_path;
  size_t at = 1;
  while (at < ref.size()) {
    if (ref[at] != '/') unsupported(path, "'$ref' '" + ref + "' (anchors)");
    size_t next = ref.find('/', at + 1);
    std::string raw =
        ref.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += raw[i];
      }
    }
    if (target->is_object() && target->contains(token)) {
      target = &(*target)[token];
    } else if (target->is_array() && !token.empty() &&
               token.find_first_not_of("0123456789") == std::string::npos && token.size() < 9 &&
               std::stoul(token) < target->size()) {
      target = &(*target)[std::stoul(token)];
    } else {
      invalid(path, "'$ref' '" + ref + "' does not resolve");
    }
    target_path += "/" + pointer_token(token);
    at = next == std::string::npos ? ref.size() : next;
  }
  // Register the name first so that recursive references find it.
  const std::string hint = ref.size() > 1 ? ref.substr(ref.rfind('/') + 1) : "root-ref";
  const std::string name = unique_name(hint);
  refs_[ref] = name;
  const size_t slot = rules_.size();
  rules_.emplace_back(name, "");
  const std::string body = compile(*target, target_path, hint);
  rules_[slot].second = body;
  return name;
}

std::string SchemaCompiler::key_not_in(const std::vector<std::string>& names) {
  // A trie of the declared names over code points; a key leaves the trie at the first
  // character that differs, or ends where no name ends.
  struct TrieNode {
    std::map<uint32_t, size_t> next;
    bool terminal = false;
  };
  std::vector<TrieNode> trie(1);
  for (const std::string& n : names) {
    size_t at = 0;
    for (uint32_t cp : codepoints(n)) {
      auto it = trie[at].next.find(cp);
      if (it == trie[at].next.end()) {
        trie.emplace_back();
        it = trie[at].next.emplace(cp, trie.size() - 1).first;
      }
      at = it->second;
    }
    trie[at].terminal = true;
  }
  primitive("ws");
  const std::vector<CodepointRange> plain = {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0x10FFFF}};
  const std::string rest = add_rule("key-rest", gbnf_class(plain) + "*");
  std::vector<std::string> rule_of(trie.size());
  for (size_t i = 0; i < trie.size(); ++i) rule_of[i] = unique_name("key-from");
  for (size_t i = trie.size(); i-- > 0;) {
    std::string body = trie[i].terminal ? "" : "\"\"";
    std::vector<CodepointRange> other = plain;
    for (const auto& [cp, child] : trie[i].next) {
      if (!body.empty()) body += " | ";
      body += gbnf_class({{cp, cp}}) + " " + rule_of[child];
      // Remove cp from `other`.
      std::vector<CodepointRange> cut;
      for (auto [lo, hi] : other) {
        if (cp < lo || cp > hi) {
          cut.emplace_back(lo, hi);
          continue;
        }
        if (lo < cp) cut.emplace_back(lo, cp - 1);
        if (cp < hi) cut.emplace_back(cp + 1, hi);
      }
      other = cut;
    }
    const std::string cls = gbnf_class(other);
    if (!cls.empty()) body += (body.empty() ? "" : " | ") + cls + " " + rest;
    if (body.empty()) body = "[^\\x00-\\U0010FFFF]";  // unreachable in practice: matches nothing
    rules_.emplace_back(rule_of[i], body);
  }
  return add_rule("extra-key", "\"\\\"\" " + rule_of[0] + " \"\\\"\"");
}

std::string SchemaCompiler::compile_object(const Json& schema, const std::string& path,
                                           const std::string& hint) {
  const std::string ws = primitive("ws");
  std::vector<std::pair<std::string, const Json*>> props;
  static const Json kAny = true;
  if (schema.contains("properties")) {
    if (!schema["properties"].is_object()) invalid(path, "'properties' must be an object");
    for (const auto& [name, sub] : schema["properties"].items()) props.emplace_back(name, &sub);
  }
  std::set<std::string> required;
  if (schema.contains("required")) {
    if (!schema["required"].is_array()) invalid(path, "'required' must be an array");
    for (const auto& r : schema["required"]) {
      if (!r.is_string()) invalid(path, "'required' entries must be strings");
      required.insert(r.get<std::string>());
    }
  }
  for (const std::string& r : required) {
    const bool declared =
        std::any_of(props.begin(), props.end(), [&](const auto& p) { return p.first == r; });
    if (!declared) props.emplace_back(r, &kAny);
  }
  std::string extra_value;  // empty: no extra keys
  if (schema.contains("additionalProperties")) {
    const auto& ap = schema["additionalProperties"];
    if (!(ap.is_boolean() && !ap.get<bool>()))
      extra_value = compile(ap, path + "/additionalProperties", hint + "-extra");
  } else if (props.empty()) {
    extra_value = any_value();
  }

  std::vector<std::string> kv(props.size());
  std::vector<std::string> names;
  for (size_t i = 0; i < props.size(); ++i) {
    const auto& [name, sub] = props[i];
    names.push_back(name);
    const std::string value =
        compile(*sub, path + "/properties/" + pointer_token(name), hint + "-" + name);
    kv[i] = add_rule(hint + "-" + name + "-kv",
                     gbnf_literal(Json(name).dump()) + " " + ws + " \":\" " + ws + " " + value);
  }
  const std::string sep = ws + " \",\" " + ws + " ";
  std::string tail_after, tail_first;  // what may follow the declared properties
  if (!extra_value.empty()) {
    const std::string key = names.empty() ? any_string() : key_not_in(names);
    const std::string extra_kv =
        add_rule(hint + "-extra-kv", key + " " + ws + " \":\" " + ws + " " + extra_value);
    tail_after = "(" + sep + extra_kv + ")*";
    tail_first = "(" + extra_kv + " (" + sep + extra_kv + ")*)?";
  }
  // rest[i][b]: properties i.. given whether one was already written (b) — so commas only
  // ever separate two written members, whichever optional ones are skipped.
  const size_t k = props.size();
  std::vector<std::array<std::string, 2>> rest(k + 1);
  rest[k][0] = tail_first.empty() ? "\"\"" : add_rule(hint + "-rest", tail_first);
  rest[k][1] = tail_after.empty() ? "\"\"" : add_rule(hint + "-rest", tail_after);
  for (size_t i = k; i-- > 0;) {
    const bool req = required.count(props[i].first) > 0;
    for (int b = 0; b < 2; ++b) {
      std::string body = (b ? sep : "") + kv[i] + " " + rest[i + 1][1];
      if (!req) body += " | " + rest[i + 1][b];
      rest[i][b] = add_rule(hint + "-rest", body);
    }
  }
  return add_rule(hint, "\"{\" " + ws + " " + rest[0][0] + " " + ws + " \"}\"");
}

std::string SchemaCompiler::compile_array(const Json& schema, const std::string& path,
                                          const std::string& hint) {
  const std::string ws = primitive("ws");
  std::vector<std::string> prefix;
  if (schema.contains("prefixItems")) {
    const auto& p = schema["prefixItems"];
    if (!p.is_array()) invalid(path, "'prefixItems' must be an array");
    for (size_t i = 0; i < p.size(); ++i)
      prefix.push_back(compile(p[i], path + "/prefixItems/" + std::to_string(i),
                               hint + "-" + std::to_string(i)));
  }
  std::string items;  // empty: no items past the prefix
  if (!schema.contains("items")) {
    items = any_value();
  } else if (!(schema["items"].is_boolean() && !schema["items"].get<bool>())) {
    items = compile(schema["items"], path + "/items", hint + "-item");
  }
  const int min = schema.contains("minItems") ? count_keyword(schema, "minItems", path) : 0;
  int max = schema.contains("maxItems") ? count_keyword(schema, "maxItems", path) : -1;
  if (items.empty() && (max < 0 || max > static_cast<int>(prefix.size())))
    max = static_cast<int>(prefix.size());
  if (max >= 0 && min > max) invalid(path, "no array satisfies minItems/maxItems/items");
  auto item = [&](int i) {
    return i < static_cast<int>(prefix.size()) ? prefix[static_cast<size_t>(i)] : items;
  };
  const std::string sep = ws + " \",\" " + ws + " ";
  // after[i]: the rest of the array once i items are written.
  const int fixed = std::max(min, static_cast<int>(prefix.size()));
  // From `last` items on: the open loop (unbounded), or the end (bounded).
  const int last = max >= 0 ? max : std::max(fixed, 1);
  std::vector<std::string> after(static_cast<size_t>(last) + 1);
  after[static_cast<size_t>(last)] =
      max >= 0 ? "\"\"" : add_rule(hint + "-more", "(" + sep + items + ")*");
  for (int i = last; i-- > 1;) {
    std::string body = sep + item(i) + " " + after[static_cast<size_t>(i) + 1];
    if (i >= min) body += " | \"\"";
    after[static_cast<size_t>(i)] = add_rule(hint + "-more", body);
  }
  std::string inner;
  if (last == 0) {
    inner = "\"\"";
  } else {
    inner = "(" + item(0) + " " + after[1] + (min == 0 ? " | \"\")" : ")");
  }
  return add_rule(hint, "\"[\" " + ws + " " + inner + " " + ws + " \"]\"");
}

std::string SchemaCompiler::compile_string(const Json& schema, const std::string& path) {
  const bool lengths = schema.contains("minLength") || schema.contains("maxLength");
  if (schema.contains("format")) {
    if (!schema["format"].is_string()) invalid(path, "'format' must be a string");
    const std::string f = schema["format"].get<std::string>();
    if (lengths || schema.contains("pattern"))
      unsupported(path, "'format' together with 'pattern'/'minLength'/'maxLength'");
    if (f == "date" || f == "time" || f == "date-time" || f == "uuid") return primitive(f);
    unsupported(path, "format '" + f + "'");
  }
  if (schema.contains("pattern")) {
    if (!schema["pattern"].is_string()) invalid(path, "'pattern' must be a string");
    if (lengths) unsupported(path, "'pattern' together with 'minLength'/'maxLength'");
    try {
      return add_rule("pattern", "\"\\\"\" " +
                                     regex_to_gbnf(schema["pattern"].get<std::string>(),
                                                   RegexTarget::json_string) +
                                     " \"\\\"\"");
    } catch (const Error& e) {
      throw Error(e.code(), "JSON Schema at '" + describe(path) + "': " + e.what());
    }
  }
  if (lengths) {
    const int min = schema.contains("minLength") ? count_keyword(schema, "minLength", path) : 0;
    const int max = schema.contains("maxLength") ? count_keyword(schema, "maxLength", path) : -1;
    if (max >= 0 && min > max) invalid(path, "minLength is greater than maxLength");
    primitive("char");
    return add_rule("string", "\"\\\"\" char{" + std::to_string(min) + "," +
                                  (max >= 0 ? std::to_string(max) : "") + "} \"\\\"\"");
  }
  return primitive("string");
}

}  // namespace inference::grammar
