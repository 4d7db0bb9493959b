// Attribute and item access (jinja2's sandboxed getattr/getitem) and the methods of str, dict
// and list that templates call. Methods that would mutate a value are unsafe in the immutable
// sandbox: looking them up gives an Undefined whose use raises jinja2's SecurityError text.
#include <algorithm>

#include "chat/jinja/arguments.hpp"
#include "chat/jinja/builtins.hpp"
#include "chat/jinja/operations.hpp"
#include "chat/jinja/unicode.hpp"
#include "inference/error.hpp"

namespace inference::chat::jinja {
namespace {

using Method = Value (*)(const Value& self, Arguments& args);

const std::string& require_str(const Value& v, std::string_view method, size_t index) {
  if (!v.is_string()) {
    throw Error(ErrorCode::invalid_argument, std::string(method) + "() argument " +
                                                 std::to_string(index + 1) + " must be str, not " +
                                                 type_name(v));
  }
  return v.str();
}

Value strip_method(const Value& self, Arguments& args, std::string_view name, bool left,
                   bool right) {
  Params p(name, args, {"chars"});
  const Value* chars = p.get(0);
  if (chars && !chars->is_none()) {
    return Value(std::string(strip(self.str(), require_str(*chars, name, 0), left, right, false)));
  }
  return Value(std::string(strip(self.str(), {}, left, right, true)));
}

Value str_strip(const Value& s, Arguments& a) {
  return strip_method(s, a, "strip", true, true);
}
Value str_lstrip(const Value& s, Arguments& a) {
  return strip_method(s, a, "lstrip", true, false);
}
Value str_rstrip(const Value& s, Arguments& a) {
  return strip_method(s, a, "rstrip", false, true);
}

// Python str.split / str.rsplit.
Value split_method(const Value& self, Arguments& args, bool from_right) {
  const char* name = from_right ? "rsplit" : "split";
  Params p(name, args, {"sep", "maxsplit"});
  Value sep = p.get(0, Value::none());
  Value max_v = p.get(1, Value(-1));
  if (!(max_v.kind() == Kind::integer || max_v.kind() == Kind::boolean)) {
    throw Error(ErrorCode::invalid_argument, "maxsplit must be an integer");
  }
  int64_t maxsplit = max_v.integer();
  const std::string& s = self.str();
  std::vector<std::string> parts;
  if (sep.is_none()) {
    // Runs of whitespace separate; leading/trailing whitespace gives no empty parts.
    std::vector<size_t> offs = code_point_offsets(s);
    std::vector<char32_t> cps;
    for (size_t i = 0; i + 1 < offs.size(); ++i) {
      size_t pos = offs[i];
      cps.push_back(next_code_point(s, pos));
    }
    auto n = static_cast<int64_t>(cps.size());
    auto space = [&](int64_t i) { return is_python_space(cps[static_cast<size_t>(i)]); };
    auto sub = [&](int64_t a, int64_t b) {
      return s.substr(offs[static_cast<size_t>(a)],
                      offs[static_cast<size_t>(b)] - offs[static_cast<size_t>(a)]);
    };
    int64_t splits = 0;
    if (!from_right) {
      int64_t i = 0;
      while (true) {
        while (i < n && space(i)) ++i;
        if (i >= n) break;
        if (maxsplit >= 0 && splits >= maxsplit) {
          int64_t end = n;
          while (end > i && space(end - 1)) --end;
          parts.push_back(sub(i, end));
          break;
        }
        int64_t j = i;
        while (j < n && !space(j)) ++j;
        parts.push_back(sub(i, j));
        ++splits;
        i = j;
      }
    } else {
      int64_t i = n;
      while (true) {
        while (i > 0 && space(i - 1)) --i;
        if (i <= 0) break;
        if (maxsplit >= 0 && splits >= maxsplit) {
          int64_t start = 0;
          while (start < i && space(start)) ++start;
          parts.push_back(sub(start, i));
          break;
        }
        int64_t j = i;
        while (j > 0 && !space(j - 1)) --j;
        parts.push_back(sub(j, i));
        ++splits;
        i = j;
      }
      std::reverse(parts.begin(), parts.end());
    }
  } else {
    const std::string& sp = require_str(sep, name, 0);
    if (sp.empty()) throw Error(ErrorCode::invalid_argument, "empty separator");
    int64_t splits = 0;
    if (!from_right) {
      size_t start = 0;
      while (true) {
        size_t at = (maxsplit >= 0 && splits >= maxsplit) ? std::string::npos : s.find(sp, start);
        if (at == std::string::npos) {
          parts.push_back(s.substr(start));
          break;
        }
        parts.push_back(s.substr(start, at - start));
        start = at + sp.size();
        ++splits;
      }
    } else {
      size_t end = s.size();
      while (true) {
        size_t at = std::string::npos;
        if (!(maxsplit >= 0 && splits >= maxsplit) && end >= sp.size()) {
          at = s.rfind(sp, end - sp.size());
        }
        if (at == std::string::npos) {
          parts.push_back(s.substr(0, end));
          break;
        }
        parts.push_back(s.substr(at + sp.size(), end - at - sp.size()));
        end = at;
        ++splits;
      }
      std::reverse(parts.begin(), parts.end());
    }
  }
  std::vector<Value> out;
  out.reserve(parts.size());
  for (auto& part : parts) out.emplace_back(std::move(part));
  return Value::list(std::move(out));
}

Value str_split(const Value& s, Arguments& a) {
  return split_method(s, a, false);
}
Value str_rsplit(const Value& s, Arguments& a) {
  return split_method(s, a, true);
}

// startswith/endswith: a str or a tuple of str.
Value affix_method(const Value& self, Arguments& args, bool prefix) {
  const char* name = prefix ? "startswith" : "endswith";
  Params p(name, args, {"affix"});
  const Value* affix = p.get(0);
  if (!affix)
    throw Error(ErrorCode::invalid_argument, std::string(name) + "() takes at least 1 argument");
  std::vector<Value> options;
  if (affix->kind() == Kind::list && affix->list().tuple) {
    options = affix->list().items;
  } else if (affix->is_string()) {
    options.push_back(*affix);
  } else {
    throw Error(
        ErrorCode::invalid_argument,
        std::string(name) + " first arg must be str or a tuple of str, not " + type_name(*affix));
  }
  const std::string& s = self.str();
  for (const auto& option : options) {
    const std::string& o = require_str(option, name, 0);
    if (o.size() > s.size()) continue;
    if (prefix ? s.compare(0, o.size(), o) == 0
               : s.compare(s.size() - o.size(), o.size(), o) == 0) {
      return Value(true);
    }
  }
  return Value(false);
}

Value str_startswith(const Value& s, Arguments& a) {
  return affix_method(s, a, true);
}
Value str_endswith(const Value& s, Arguments& a) {
  return affix_method(s, a, false);
}

}  // namespace

/// Python str.replace(old, new, count=-1), shared with the replace filter.
std::string python_replace(const std::string& s, const std::string& old, const std::string& repl,
                           int64_t count, size_t max_bytes) {
  std::string out;
  int64_t done = 0;
  auto limit_check = [&] {
    if (out.size() > max_bytes) {
      throw Error(ErrorCode::invalid_argument, "replace() result exceeds the string size limit");
    }
  };
  if (old.empty()) {
    // Python inserts `repl` before every code point and at the end.
    size_t i = 0;
    while (i <= s.size()) {
      if (count < 0 || done < count) {
        out += repl;
        ++done;
      }
      if (i == s.size()) break;
      size_t start = i;
      next_code_point(s, i);
      out.append(s, start, i - start);
      limit_check();
    }
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t at = (count >= 0 && done >= count) ? std::string::npos : s.find(old, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += repl;
    limit_check();
    start = at + old.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  limit_check();
  return out;
}

/// Python str.title(): upper-case after an uncased character, lower-case after a cased one.
std::string python_title(const std::string& s) {
  std::string out;
  bool previous_cased = false;
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = next_code_point(s, i);
    char32_t mapped = previous_cased ? lower_code_point(cp) : upper_code_point(cp);
    append_utf8(out, mapped);
    previous_cased = is_cased(cp);
  }
  return out;
}

/// Python str.capitalize(): first character upper, the rest lower.
std::string python_capitalize(const std::string& s) {
  std::string out;
  size_t i = 0;
  bool first = true;
  while (i < s.size()) {
    char32_t cp = next_code_point(s, i);
    if (first && cp == 0xDF) {
      out += "Ss";
    } else {
      append_utf8(out, first ? upper_code_point(cp) : lower_code_point(cp));
    }
    first = false;
  }
  return out;
}

namespace {

Value str_replace(const Value& self, Arguments& args) {
  Params p("replace", args, {"old", "new", "count"});
  if (!p.get(0) || !p.get(1))
    throw Error(ErrorCode::invalid_argument, "replace() takes at least 2 arguments");
  Value count = p.get(2, Value(-1));
  if (!(count.kind() == Kind::integer || count.kind() == Kind::boolean)) {
    throw Error(ErrorCode::invalid_argument, "replace() count must be an integer");
  }
  return Value(python_replace(self.str(), require_str(*p.get(0), "replace", 0),
                              require_str(*p.get(1), "replace", 1), count.integer(),
                              SizeLimits{}.max_string_bytes));
}

Value str_upper(const Value& s, Arguments& a) {
  Params("upper", a, {});
  return Value(to_upper(s.str()));
}
Value str_lower(const Value& s, Arguments& a) {
  Params("lower", a, {});
  return Value(to_lower(s.str()));
}
Value str_title(const Value& s, Arguments& a) {
  Params("title", a, {});
  return Value(python_title(s.str()));
}
Value str_capitalize(const Value& s, Arguments& a) {
  Params("capitalize", a, {});
  return Value(python_capitalize(s.str()));
}

// find/rfind/count/index over code points.
Value search_method(const Value& self, Arguments& args, std::string_view name) {
  Params p(name, args, {"sub"});
  if (!p.get(0))
    throw Error(ErrorCode::invalid_argument, std::string(name) + "() takes at least 1 argument");
  const std::string& sub = require_str(*p.get(0), name, 0);
  const std::string& s = self.str();
  if (name == "count") {
    if (sub.empty()) return Value(static_cast<int64_t>(code_point_count(s) + 1));
    int64_t n = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
    return Value(n);
  }
  size_t at = name == "rfind" ? s.rfind(sub) : s.find(sub);
  if (at == std::string::npos) {
    if (name == "index") throw Error(ErrorCode::invalid_argument, "substring not found");
    return Value(-1);
  }
  return Value(static_cast<int64_t>(code_point_count(std::string_view(s).substr(0, at))));
}

Value str_find(const Value& s, Arguments& a) {
  return search_method(s, a, "find");
}
Value str_rfind(const Value& s, Arguments& a) {
  return search_method(s, a, "rfind");
}
Value str_index(const Value& s, Arguments& a) {
  return search_method(s, a, "index");
}
Value str_count(const Value& s, Arguments& a) {
  return search_method(s, a, "count");
}

Value str_join(const Value& self, Arguments& args) {
  Params p("join", args, {"iterable"});
  if (!p.get(0)) throw Error(ErrorCode::invalid_argument, "join() takes exactly one argument");
  std::string out;
  bool first = true;
  for (const auto& item : iterate(*p.get(0))) {
    if (!item.is_string()) {
      throw Error(ErrorCode::invalid_argument,
                  "sequence item: expected str instance, " + type_name(item) + " found");
    }
    if (!first) out += self.str();
    first = false;
    out += item.str();
  }
  return Value(std::move(out));
}

// isdigit/isalpha/… on ASCII-level classification plus the locale tables for the rest.
template <bool (*Pred)(char32_t)>
Value classify(const Value& self, Arguments& args) {
  Params("is", args, {});
  const std::string& s = self.str();
  if (s.empty()) return Value(false);
  size_t i = 0;
  while (i < s.size()) {
    if (!Pred(next_code_point(s, i))) return Value(false);
  }
  return Value(true);
}
bool digit_cp(char32_t c) {
  return c >= '0' && c <= '9';
}
bool space_cp(char32_t c) {
  return is_python_space(c);
}

Value str_removeprefix(const Value& self, Arguments& args) {
  Params p("removeprefix", args, {"prefix"});
  if (!p.get(0))
    throw Error(ErrorCode::invalid_argument, "removeprefix() takes exactly one argument");
  const std::string& pre = require_str(*p.get(0), "removeprefix", 0);
  const std::string& s = self.str();
  return s.compare(0, pre.size(), pre) == 0 && s.size() >= pre.size() ? Value(s.substr(pre.size()))
                                                                      : self;
}

Value str_removesuffix(const Value& self, Arguments& args) {
  Params p("removesuffix", args, {"suffix"});
  if (!p.get(0))
    throw Error(ErrorCode::invalid_argument, "removesuffix() takes exactly one argument");
  const std::string& suf = require_str(*p.get(0), "removesuffix", 0);
  const std::string& s = self.str();
  if (!suf.empty() && s.size() >= suf.size() &&
      s.compare(s.size() - suf.size(), suf.size(), suf) == 0) {
    return Value(s.substr(0, s.size() - suf.size()));
  }
  return self;
}

Value dict_items(const Value& self, Arguments& args) {
  Params("items", args, {});
  std::vector<Value> pairs;
  pairs.reserve(self.dict().size());
  for (const auto& [key, value] : self.dict().items()) {
    pairs.push_back(Value::list({Value(key), value}, true));
  }
  return Value::list(std::move(pairs));
}

Value dict_keys(const Value& self, Arguments& args) {
  Params("keys", args, {});
  return Value::list(iterate(self));
}

Value dict_values(const Value& self, Arguments& args) {
  Params("values", args, {});
  std::vector<Value> values;
  for (const auto& entry : self.dict().items()) values.push_back(entry.second);
  return Value::list(std::move(values));
}

Value dict_get(const Value& self, Arguments& args) {
  Params p("get", args, {"key", "default"});
  if (!p.get(0))
    throw Error(ErrorCode::invalid_argument, "get expected at least 1 argument, got 0");
  const Value& key = *p.get(0);
  if (key.is_string()) {
    if (const Value* v = self.dict().find(key.str())) return *v;
  }
  return p.get(1, Value::none());
}

Value list_index(const Value& self, Arguments& args) {
  Params p("index", args, {"value"});
  if (!p.get(0)) throw Error(ErrorCode::invalid_argument, "index expected 1 argument, got 0");
  const auto& items = self.list().items;
  for (size_t i = 0; i < items.size(); ++i) {
    if (equals(items[i], *p.get(0))) return Value(static_cast<int64_t>(i));
  }
  throw Error(ErrorCode::invalid_argument, repr(*p.get(0)) + " is not in list");
}

Value list_count(const Value& self, Arguments& args) {
  Params p("count", args, {"value"});
  if (!p.get(0)) throw Error(ErrorCode::invalid_argument, "count() takes exactly one argument");
  const auto& items = self.list().items;
  return Value(static_cast<int64_t>(std::count_if(
      items.begin(), items.end(), [&](const Value& v) { return equals(v, *p.get(0)); })));
}

struct MethodEntry {
  std::string_view name;
  Method fn;
};

constexpr MethodEntry kStrMethods[] = {
    {"strip", str_strip},
    {"lstrip", str_lstrip},
    {"rstrip", str_rstrip},
    {"split", str_split},
    {"rsplit", str_rsplit},
    {"startswith", str_startswith},
    {"endswith", str_endswith},
    {"replace", str_replace},
    {"upper", str_upper},
    {"lower", str_lower},
    {"title", str_title},
    {"capitalize", str_capitalize},
    {"find", str_find},
    {"rfind", str_rfind},
    {"index", str_index},
    {"count", str_count},
    {"join", str_join},
    {"isdigit", classify<digit_cp>},
    {"isspace", classify<space_cp>},
    {"removeprefix", str_removeprefix},
    {"removesuffix", str_removesuffix},
};
// str methods Python has that we do not implement: calling one is Error(unsupported).
constexpr std::string_view kStrUnsupported[] = {
    "casefold",   "center",   "encode",    "expandtabs",   "format",  "format_map", "isalnum",
    "isalpha",    "isascii",  "isdecimal", "isidentifier", "islower", "isnumeric",  "isprintable",
    "istitle",    "isupper",  "ljust",     "partition",    "rindex",  "rjust",      "rpartition",
    "splitlines", "swapcase", "translate", "zfill"};
constexpr MethodEntry kDictMethods[] = {
    {"items", dict_items}, {"keys", dict_keys}, {"values", dict_values}, {"get", dict_get}};
constexpr std::string_view kDictUnsafe[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr MethodEntry kListMethods[] = {{"index", list_index}, {"count", list_count}};
constexpr std::string_view kListUnsafe[] = {"append", "clear", "pop",    "reverse",
                                            "insert", "sort",  "extend", "remove"};

template <typename Table>
Method find_method(const Table& table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.fn;
  }
  return nullptr;
}

template <typename Table>
bool listed(const Table& table, std::string_view name) {
  return std::find(std::begin(table), std::end(table), name) != std::end(table);
}

Value bind(const Value& self, std::string_view name, Method fn) {
  return Value::function(std::string(name),
                         [self, fn](Interpreter&, Arguments& args) { return fn(self, args); });
}

Value unsafe(const Value& obj, std::string_view name) {
  return Value::undefined("access to attribute '" + std::string(name) + "' of '" + type_name(obj) +
                          "' object is unsafe.");
}

Value missing_attribute(const Value& obj, std::string_view name) {
  std::string owner = obj.kind() == Kind::ns ? "'Namespace object'" : object_description(obj);
  return Value::undefined(owner + " has no attribute '" + std::string(name) + "'");
}

// Methods (and the sandbox's unsafe markers) only — what Python's getattr would find.
std::optional<Value> method_attribute(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case Kind::string:
      if (Method m = find_method(kStrMethods, name)) return bind(obj, name, m);
      if (listed(kStrUnsupported, name)) {
        std::string n(name);
        return Value::function(n, [n](Interpreter&, Arguments&) -> Value {
          throw Error(ErrorCode::unsupported, "the str method '" + n + "' is not supported");
        });
      }
      break;
    case Kind::dict:
      if (Method m = find_method(kDictMethods, name)) return bind(obj, name, m);
      if (listed(kDictUnsafe, name)) return unsafe(obj, name);
      break;
    case Kind::list:
      if (obj.list().tuple) {
        if (Method m = find_method(kListMethods, name)) return bind(obj, name, m);
        break;
      }
      if (Method m = find_method(kListMethods, name)) return bind(obj, name, m);
      if (listed(kListUnsafe, name)) return unsafe(obj, name);
      break;
    case Kind::ns:
      if (const Value* v = obj.namespace_attributes().find(name)) return *v;
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

Value get_attribute(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) throw_undefined(obj);
  if (auto method = method_attribute(obj, name)) return *method;
  if (obj.kind() == Kind::dict) {
    if (const Value* v = obj.dict().find(name)) return *v;
  }
  return missing_attribute(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) throw_undefined(obj);
  const bool int_key = key.kind() == Kind::integer || key.kind() == Kind::boolean;
  switch (obj.kind()) {
    case Kind::dict:
      if (key.is_string()) {
        if (const Value* v = obj.dict().find(key.str())) return *v;
      }
      break;
    case Kind::list:
      if (int_key) {
        if (auto i = sequence_index(key.integer(), obj.list().items.size())) {
          return obj.list().items[*i];
        }
      }
      break;
    case Kind::string:
      if (int_key) {
        if (auto i = sequence_index(key.integer(), code_point_count(obj.str()))) {
          return Value(code_point_at(obj.str(), *i));
        }
      }
      break;
    default:
      break;
  }
  if (key.is_string()) {
    if (auto method = method_attribute(obj, key.str())) return *method;
    return missing_attribute(obj, key.str());
  }
  if (key.is_undefined())
    return Value::undefined(object_description(obj) + " has no element Undefined");
  return Value::undefined(object_description(obj) + " has no element " + repr(key));
}

/// jinja2's `attr` filter: attributes only (methods, namespace members), never items.
Value get_attribute_only(const Value& obj, std::string_view name) {
  if (auto method = method_attribute(obj, name)) return *method;
  return missing_attribute(obj, name);
}

}  // namespace inference::chat::jinja
