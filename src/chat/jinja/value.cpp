#include "chat/jinja/value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/jinja/unicode.hpp"
#include "inference/error.hpp"

namespace inference::chat::jinja {

const Value* Dict::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

namespace {

// Nesting depth a value adds to its container (namespaces are mutable and never counted: the
// printing of one guards itself).
int nested_depth(const Value& v) {
  if (v.kind() == Kind::list) return v.list().depth;
  if (v.kind() == Kind::dict) return v.dict().depth();
  return 0;
}

void check_depth(int depth) {
  if (depth > kMaxValueDepth) {
    throw Error(ErrorCode::invalid_argument,
                "template value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  }
}

}  // namespace

void Dict::set(std::string key, Value value) {
  int depth = nested_depth(value) + 1;
  check_depth(depth);
  depth_ = std::max(depth_, depth);
  auto it = index_.find(key);
  if (it != index_.end()) {
    items_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, items_.size());
  items_.emplace_back(std::move(key), std::move(value));
}

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.string_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::none;
  return v;
}

Value::Value(std::string s)
    : kind_(Kind::string), string_(std::make_shared<const std::string>(std::move(s))) {}

Value Value::list(std::vector<Value> items, bool tuple) {
  Value v;
  v.kind_ = Kind::list;
  int depth = 1;
  for (const auto& item : items) depth = std::max(depth, nested_depth(item) + 1);
  check_depth(depth);
  v.list_ = std::make_shared<const List>(List{std::move(items), tuple, depth});
  return v;
}

Value Value::dict(Dict dict) {
  Value v;
  v.kind_ = Kind::dict;
  v.dict_ = std::make_shared<Dict>(std::move(dict));
  return v;
}

Value Value::make_namespace(Dict attributes) {
  Value v = dict(std::move(attributes));
  v.kind_ = Kind::ns;
  return v;
}

Value Value::function(std::string name, std::function<Value(Interpreter&, Arguments&)> call) {
  Value v;
  v.kind_ = Kind::function;
  v.function_ = std::make_shared<const Function>(Function{std::move(name), std::move(call)});
  return v;
}

const std::string& Value::undefined_hint() const noexcept {
  static const std::string empty;
  return kind_ == Kind::undefined && string_ ? *string_ : empty;
}

const void* Value::identity() const noexcept {
  switch (kind_) {
    case Kind::string:
      return string_.get();
    case Kind::list:
      return list_.get();
    case Kind::dict:
    case Kind::ns:
      return dict_.get();
    case Kind::function:
      return function_.get();
    default:
      return nullptr;
  }
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined:
    case Kind::none:
      return false;
    case Kind::boolean:
      return v.boolean();
    case Kind::integer:
      return v.integer() != 0;
    case Kind::floating:
      return v.floating() != 0.0;
    case Kind::string:
      return !v.str().empty();
    case Kind::list:
      return !v.list().items.empty();
    case Kind::dict:
      return v.dict().size() != 0;
    case Kind::ns:
    case Kind::function:
      return true;
  }
  return false;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::floating || b.kind() == Kind::floating) {
      return a.floating() == b.floating();
    }
    return a.integer() == b.integer();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::undefined:
    case Kind::none:
      return true;
    case Kind::string:
      return a.str() == b.str();
    case Kind::list: {
      const auto& x = a.list();
      const auto& y = b.list();
      if (x.tuple != y.tuple || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i) {
        if (!equals(x.items[i], y.items[i])) return false;
      }
      return true;
    }
    case Kind::dict: {
      const auto& x = a.dict();
      const auto& y = b.dict();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.items()) {
        const Value* other = y.find(key);
        if (!other || !equals(value, *other)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined:
      return "Undefined";
    case Kind::none:
      return "NoneType";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::floating:
      return "float";
    case Kind::string:
      return "str";
    case Kind::list:
      return v.list().tuple ? "tuple" : "list";
    case Kind::dict:
      return "dict";
    case Kind::ns:
      return "Namespace";
    case Kind::function:
      return "function";
  }
  return "object";
}

std::string object_description(const Value& v) {
  if (v.is_none()) return "None";
  return "'" + type_name(v) + " object'";
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(sci.substr(e + 1));
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_buf;
  }
  if (exponent < 0) {
    return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  auto int_len = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_len) {
    return out + digits + std::string(int_len - digits.size(), '0') + ".0";
  }
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

namespace {

std::string repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = next_code_point(s, i);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!is_python_printable(cp)) {
      char buf[16];
      if (cp < 0x100) {
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      } else {
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
      }
      out += buf;
    } else {
      append_utf8(out, cp);
    }
  }
  out += quote;
  return out;
}

}  // namespace

namespace {

std::string repr_at(const Value& v, int depth);

}  // namespace

std::string repr(const Value& v) {
  return repr_at(v, 0);
}

namespace {

std::string repr_at(const Value& v, int depth) {
  if (depth > kMaxValueDepth) {
    throw Error(ErrorCode::invalid_argument,
                "value nested too deeply to print (a namespace holding itself?)");
  }
  switch (v.kind()) {
    case Kind::undefined:
      return "Undefined";
    case Kind::string:
      return repr_string(v.str());
    case Kind::list: {
      const auto& l = v.list();
      std::string out = l.tuple ? "(" : "[";
      for (size_t i = 0; i < l.items.size(); ++i) {
        if (i) out += ", ";
        out += repr_at(l.items[i], depth + 1);
      }
      if (l.tuple && l.items.size() == 1) out += ",";
      return out + (l.tuple ? ")" : "]");
    }
    case Kind::dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, value] : v.dict().items()) {
        if (!first) out += ", ";
        first = false;
        out += repr_string(key) + ": " + repr_at(value, depth + 1);
      }
      return out + "}";
    }
    case Kind::ns: {
      std::string out = "<Namespace {";
      bool first = true;
      for (const auto& [key, value] : v.namespace_attributes().items()) {
        if (!first) out += ", ";
        first = false;
        out += repr_string(key) + ": " + repr_at(value, depth + 1);
      }
      return out + "}>";
    }
    default:
      return to_str(v);
  }
}

}  // namespace

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined:
      return "";
    case Kind::none:
      return "None";
    case Kind::boolean:
      return v.boolean() ? "True" : "False";
    case Kind::integer:
      return std::to_string(v.integer());
    case Kind::floating:
      return python_float_repr(v.floating());
    case Kind::string:
      return v.str();
    case Kind::function:
      throw Error(ErrorCode::unsupported,
                  "printing the callable '" + v.function().name + "' is not supported");
    default:
      return repr(v);
  }
}

namespace {

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        char buf[16];
        if (cp < 0x20 || (ensure_ascii && cp > 0x7E && cp < 0x10000)) {
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
          out += buf;
        } else if (ensure_ascii && cp >= 0x10000) {
          char32_t c = cp - 0x10000;
          std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x",
                        static_cast<unsigned>(0xD800 + (c >> 10)),
                        static_cast<unsigned>(0xDC00 + (c & 0x3FF)));
          out += buf;
        } else {
          append_utf8(out, cp);
        }
      }
    }
  }
  out += '"';
}

void json_value(std::string& out, const Value& v, const JsonStyle& style, int depth) {
  if (depth > 512) throw Error(ErrorCode::invalid_argument, "tojson: value nested too deeply");
  if (out.size() > style.max_bytes) {
    throw Error(ErrorCode::invalid_argument, "tojson output exceeds the size limit");
  }
  auto newline = [&](int level) {
    if (!style.pretty) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += style.indent;
  };
  switch (v.kind()) {
    case Kind::none:
      out += "null";
      return;
    case Kind::boolean:
      out += v.boolean() ? "true" : "false";
      return;
    case Kind::integer:
      out += std::to_string(v.integer());
      return;
    case Kind::floating: {
      double d = v.floating();
      if (std::isnan(d))
        out += "NaN";
      else if (std::isinf(d))
        out += d < 0 ? "-Infinity" : "Infinity";
      else
        out += python_float_repr(d);
      return;
    }
    case Kind::string:
      json_string(out, v.str(), style.ensure_ascii);
      return;
    case Kind::list: {
      const auto& items = v.list().items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += style.item_separator;
        newline(depth + 1);
        json_value(out, items[i], style, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Kind::dict: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : v.dict().items()) entries.push_back(&entry);
      if (style.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](auto* a, auto* b) { return a->first < b->first; });
      }
      if (entries.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += style.item_separator;
        newline(depth + 1);
        json_string(out, entries[i]->first, style.ensure_ascii);
        out += style.key_separator;
        json_value(out, entries[i]->second, style, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    default:
      throw Error(ErrorCode::invalid_argument,
                  "Object of type " + type_name(v) + " is not JSON serializable");
  }
}

template <typename Json>
Value convert(const Json& json, int depth) {
  if (depth > 512) throw Error(ErrorCode::invalid_argument, "JSON input nested too deeply");
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value(json.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      auto u = json.template get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.template get<double>());
    case nlohmann::json::value_t::string: {
      const auto& s = json.template get_ref<const std::string&>();
      if (!is_valid_utf8(s)) {
        throw Error(ErrorCode::invalid_argument, "template input string is not valid UTF-8");
      }
      return Value(s);
    }
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(convert(item, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict dict;
      for (auto it = json.begin(); it != json.end(); ++it) {
        if (!is_valid_utf8(it.key())) {
          throw Error(ErrorCode::invalid_argument, "template input key is not valid UTF-8");
        }
        dict.set(it.key(), convert(it.value(), depth + 1));
      }
      return Value::dict(std::move(dict));
    }
    default:
      throw Error(ErrorCode::invalid_argument, "template input holds a binary JSON value");
  }
}

}  // namespace

std::string to_json(const Value& v, const JsonStyle& style) {
  std::string out;
  json_value(out, v, style, 0);
  return out;
}

Value from_json(const nlohmann::ordered_json& json) {
  return convert(json, 0);
}
Value from_json(const nlohmann::json& json) {
  return convert(json, 0);
}

}  // namespace inference::chat::jinja
