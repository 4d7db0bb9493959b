// The built-in filters, with jinja2 3.1's semantics (and Hugging Face's tojson = json.dumps).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja/arguments.hpp"
#include "chat/jinja/builtins.hpp"
#include "chat/jinja/interpreter.hpp"
#include "chat/jinja/operations.hpp"
#include "chat/jinja/unicode.hpp"

namespace inference::chat::jinja {
namespace {

// jinja2's soft_str: Undefined is "", everything else str().
std::string soft_str(const Value& v) {
  return to_str(v);
}

bool is_int(const Value& v) {
  return v.kind() == Kind::integer || v.kind() == Kind::boolean;
}

// make_attrgetter: "a.b.0" walks attributes/items; integer parts index.
Value attribute_path(const Value& item, const Value& attribute) {
  if (attribute.is_none()) return item;
  if (is_int(attribute)) return get_item(item, attribute);
  std::string path = soft_str(attribute);
  Value current = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(),
                                                [](char c) { return c >= '0' && c <= '9'; });
    if (numeric && part.size() < 18) {
      current = get_item(current, Value(static_cast<int64_t>(std::stoll(part))));
    } else {
      current = get_item(current, Value(part));
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return current;
}

// Lower-cases strings for the case-insensitive sorts and comparisons.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(to_lower(v.str()));
  return v;
}

Value f_abs(Interpreter&, const Value& v, Arguments& args) {
  Params("abs", args, {});
  if (v.kind() == Kind::floating) return Value(std::fabs(v.floating()));
  if (is_int(v)) {
    if (v.integer() == INT64_MIN) throw Error(ErrorCode::unsupported, "integer overflow in abs");
    return Value(v.integer() < 0 ? -v.integer() : v.integer());
  }
  if (v.is_undefined()) throw_undefined(v);
  throw Error(ErrorCode::invalid_argument, "bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Interpreter&, const Value& v, Arguments& args) {
  Params p("attr", args, {"name"});
  if (!p.get(0)) throw Error(ErrorCode::invalid_argument, "attr() missing argument 'name'");
  if (v.is_undefined()) throw_undefined(v);
  return get_attribute_only(v, soft_str(*p.get(0)));
}

Value f_batch(Interpreter& in, const Value& v, Arguments& args) {
  Params p("batch", args, {"linecount", "fill_with"});
  if (!p.get(0) || !is_int(*p.get(0)) || p.get(0)->integer() <= 0) {
    throw Error(ErrorCode::invalid_argument, "batch() needs a positive line count");
  }
  if (static_cast<uint64_t>(p.get(0)->integer()) > in.limits().sizes.max_list_items) {
    throw Error(ErrorCode::invalid_argument, "batch() line count beyond the list size limit");
  }
  auto n = static_cast<size_t>(p.get(0)->integer());
  std::vector<Value> items = iterate(v);
  in.charge(items.size());
  std::vector<Value> out;
  std::vector<Value> row;
  for (auto& item : items) {
    row.push_back(std::move(item));
    if (row.size() == n) {
      out.push_back(Value::list(std::move(row)));
      row.clear();
    }
  }
  if (!row.empty()) {
    if (const Value* fill = p.get(1); fill && !fill->is_none()) {
      while (row.size() < n) row.push_back(*fill);
    }
    out.push_back(Value::list(std::move(row)));
  }
  return Value::list(std::move(out));
}

Value f_capitalize(Interpreter&, const Value& v, Arguments& args) {
  Params("capitalize", args, {});
  return Value(python_capitalize(soft_str(v)));
}

Value f_length(Interpreter&, const Value& v, Arguments& args) {
  Params("length", args, {});
  switch (v.kind()) {
    case Kind::undefined:
      return Value(0);
    case Kind::string:
      return Value(static_cast<int64_t>(code_point_count(v.str())));
    case Kind::list:
      return Value(static_cast<int64_t>(v.list().items.size()));
    case Kind::dict:
      return Value(static_cast<int64_t>(v.dict().size()));
    default:
      throw Error(ErrorCode::invalid_argument,
                  "object of type '" + type_name(v) + "' has no len()");
  }
}

Value f_default(Interpreter&, const Value& v, Arguments& args) {
  Params p("default", args, {"default_value", "boolean"});
  Value fallback = p.get(0, Value(""));
  bool boolean = truthy(p.get(1, Value(false)));
  if (v.is_undefined() || (boolean && !truthy(v))) return fallback;
  return v;
}

Value f_dictsort(Interpreter&, const Value& v, Arguments& args) {
  Params p("dictsort", args, {"case_sensitive", "by", "reverse"});
  bool case_sensitive = truthy(p.get(0, Value(false)));
  std::string by = soft_str(p.get(1, Value("key")));
  bool reverse = truthy(p.get(2, Value(false)));
  if (by != "key" && by != "value") {
    throw Error(ErrorCode::invalid_argument, "You can only sort by either \"key\" or \"value\"");
  }
  if (v.kind() != Kind::dict) {
    if (v.is_undefined()) throw_undefined(v);
    throw Error(ErrorCode::invalid_argument,
                "'" + type_name(v) + "' object has no attribute 'items'");
  }
  std::vector<std::pair<Value, Value>> pairs;
  for (const auto& [key, value] : v.dict().items()) pairs.emplace_back(Value(key), value);
  size_t pos = by == "key" ? 0 : 1;
  std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& a, const auto& b) {
    const Value& x = pos == 0 ? a.first : a.second;
    const Value& y = pos == 0 ? b.first : b.second;
    return reverse ? less_than(sort_key(y, case_sensitive), sort_key(x, case_sensitive))
                   : less_than(sort_key(x, case_sensitive), sort_key(y, case_sensitive));
  });
  std::vector<Value> out;
  for (auto& [key, value] : pairs) out.push_back(Value::list({key, value}, true));
  return Value::list(std::move(out));
}

Value f_escape(Interpreter&, const Value& v, Arguments& args) {
  Params("escape", args, {});
  std::string out;
  for (char c : soft_str(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return Value(std::move(out));
}

Value f_first(Interpreter&, const Value& v, Arguments& args) {
  Params("first", args, {});
  if (v.kind() == Kind::list) {
    if (!v.list().items.empty()) return v.list().items.front();
  } else {
    std::vector<Value> items = iterate(v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

Value f_last(Interpreter&, const Value& v, Arguments& args) {
  Params("last", args, {});
  if (v.kind() == Kind::list) {
    if (!v.list().items.empty()) return v.list().items.back();
  } else {
    std::vector<Value> items = iterate(v);
    if (!items.empty()) return items.back();
  }
  return Value::undefined("No last item, sequence was empty.");
}

// Python int(str, base) for the int filter: optional sign, underscores between digits.
std::optional<int64_t> parse_python_int(std::string s, int base) {
  s = std::string(strip(s, {}, true, true, true));
  std::string digits;
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (base == 16 || base == 8 || base == 2 || base == 0) {
    if (i + 1 < s.size() && s[i] == '0') {
      char p = static_cast<char>(s[i + 1] | 0x20);
      int prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (prefixed && (base == 0 || base == prefixed)) {
        base = prefixed;
        i += 2;
        if (i < s.size() && s[i] == '_') ++i;
      }
    }
    if (base == 0) base = 10;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '_' && !digits.empty() && i + 1 < s.size() && s[i + 1] != '_') continue;
    digits += s[i];
  }
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    int d = (c >= '0' && c <= '9')                     ? c - '0'
            : ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? (c | 0x20) - 'a' + 10
                                                       : 99;
    if (d >= base) return std::nullopt;
  }
  errno = 0;
  long long value = std::strtoll(digits.c_str(), nullptr, base);
  if (errno == ERANGE) throw Error(ErrorCode::unsupported, "integer beyond 64 bits in int filter");
  return negative ? -value : value;
}

std::optional<double> parse_python_float(const std::string& text) {
  std::string s(strip(text, {}, true, true, true));
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() &&
        std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      continue;
    }
    clean += s[i];
  }
  if (clean.empty()) return std::nullopt;
  std::string lower = to_lower(clean);
  std::string body = lower[0] == '+' || lower[0] == '-' ? lower.substr(1) : lower;
  double sign = lower[0] == '-' ? -1.0 : 1.0;
  if (body == "inf" || body == "infinity") return sign * HUGE_VAL;
  if (body == "nan") return std::nan("");
  if (body.find_first_not_of("0123456789.e+-") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return d;
}

Value f_int(Interpreter&, const Value& v, Arguments& args) {
  Params p("int", args, {"default", "base"});
  Value fallback = p.get(0, Value(0));
  Value base_v = p.get(1, Value(10));
  int base = is_int(base_v) ? static_cast<int>(base_v.integer()) : 10;
  if (is_int(v)) return Value(v.integer());
  if (v.kind() == Kind::floating) {
    double d = v.floating();
    if (std::isnan(d) || std::isinf(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    if (base < 0 || base == 1 || base > 36) return fallback;
    if (auto i = parse_python_int(v.str(), base)) return Value(*i);
    if (auto d = parse_python_float(v.str())) {
      if (std::isnan(*d) || std::isinf(*d) || std::fabs(*d) >= 9.2e18) return fallback;
      return Value(static_cast<int64_t>(*d));
    }
  }
  return fallback;
}

Value f_float(Interpreter&, const Value& v, Arguments& args) {
  Params p("float", args, {"default"});
  Value fallback = p.get(0, Value(0.0));
  if (v.is_number()) return Value(v.floating());
  if (v.is_string()) {
    if (auto d = parse_python_float(v.str())) return Value(*d);
  }
  return fallback;
}

// Python str.splitlines() (keepends=False).
std::vector<std::string> splitlines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t at = i;
    char32_t cp = next_code_point(s, i);
    bool br = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) ||
              cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (!br) continue;
    lines.push_back(s.substr(start, at - start));
    if (cp == '\r' && i < s.size() && s[i] == '\n') ++i;
    start = i;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

Value f_indent(Interpreter& in, const Value& v, Arguments& args) {
  Params p("indent", args, {"width", "first", "blank"});
  Value width = p.get(0, Value(4));
  bool first = truthy(p.get(1, Value(false)));
  bool blank = truthy(p.get(2, Value(false)));
  std::string indention;
  if (width.is_string()) {
    indention = width.str();
  } else if (is_int(width)) {
    if (width.integer() > 4096) {
      throw Error(ErrorCode::unsupported, "indent widths above 4096");
    }
    indention.assign(static_cast<size_t>(std::max<int64_t>(width.integer(), 0)), ' ');
  } else {
    throw Error(ErrorCode::invalid_argument, "indent width must be an int or a str");
  }
  std::string s = soft_str(v) + "\n";
  std::vector<std::string> lines = splitlines(s);
  if (s.size() + lines.size() * (indention.size() + 1) > in.limits().sizes.max_string_bytes) {
    throw Error(ErrorCode::invalid_argument, "indent() result exceeds the string size limit");
  }
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
    }
  }
  if (first) rv = indention + rv;
  return Value(std::move(rv));
}

Value f_items(Interpreter&, const Value& v, Arguments& args) {
  Params("items", args, {});
  if (v.is_undefined()) return Value::list({});
  if (v.kind() != Kind::dict) {
    throw Error(ErrorCode::invalid_argument, "Can only get item pairs from a mapping.");
  }
  std::vector<Value> pairs;
  for (const auto& [key, value] : v.dict().items())
    pairs.push_back(Value::list({Value(key), value}, true));
  return Value::list(std::move(pairs));
}

Value f_join(Interpreter& in, const Value& v, Arguments& args) {
  Params p("join", args, {"d", "attribute"});
  std::string sep = soft_str(p.get(0, Value("")));
  Value attribute = p.get(1, Value::none());
  std::string out;
  bool first = true;
  for (const auto& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += soft_str(attribute_path(item, attribute));
    if (out.size() > in.limits().sizes.max_string_bytes) {
      throw Error(ErrorCode::invalid_argument, "join() result exceeds the string size limit");
    }
  }
  in.charge(out.size() / 64);
  return Value(std::move(out));
}

Value f_list(Interpreter& in, const Value& v, Arguments& args) {
  Params("list", args, {});
  std::vector<Value> items = iterate(v);
  in.charge(items.size());
  return Value::list(std::move(items));
}

Value f_lower(Interpreter&, const Value& v, Arguments& args) {
  Params("lower", args, {});
  return Value(to_lower(soft_str(v)));
}

Value f_upper(Interpreter&, const Value& v, Arguments& args) {
  Params("upper", args, {});
  return Value(to_upper(soft_str(v)));
}

Value f_map(Interpreter& in, const Value& v, Arguments& args) {
  std::vector<Value> out;
  std::vector<Value> items = iterate(v);
  in.charge(items.size());
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [key, value] : args.keyword) {
    if (key == "attribute")
      attribute = &value;
    else if (key == "default")
      fallback = &value;
  }
  if (attribute && args.positional.empty()) {
    for (const auto& item : items) {
      Value got = attribute_path(item, *attribute);
      out.push_back(got.is_undefined() && fallback ? *fallback : got);
    }
    return Value::list(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) {
    throw Error(ErrorCode::invalid_argument, "map requires a filter name or attribute=");
  }
  std::string filter = args.positional[0].str();
  Arguments rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  if (!find_filter(filter))
    throw Error(ErrorCode::unsupported, "the filter '" + filter + "' in map()");
  for (const auto& item : items) {
    Arguments copy = rest;
    out.push_back(in.apply_filter(filter, item, copy));
  }
  return Value::list(std::move(out));
}

// select / reject / selectattr / rejectattr.
Value select_common(Interpreter& in, const Value& v, Arguments& args, bool keep, bool by_attr) {
  std::vector<Value> items = iterate(v);
  in.charge(items.size());
  size_t next = 0;
  Value attribute;
  if (by_attr) {
    if (args.positional.empty())
      throw Error(ErrorCode::invalid_argument, "Missing parameter for attribute name");
    attribute = args.positional[next++];
  }
  std::string test;
  Arguments test_args;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string())
      throw Error(ErrorCode::invalid_argument, "test name must be a string");
    test = args.positional[next++].str();
    if (!find_test(test)) throw Error(ErrorCode::unsupported, "the test '" + test + "'");
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next),
                                args.positional.end());
    test_args.keyword = args.keyword;
  }
  std::vector<Value> out;
  for (const auto& item : items) {
    Value subject = by_attr ? attribute_path(item, attribute) : item;
    bool result;
    if (test.empty()) {
      result = truthy(subject);
    } else {
      Arguments copy = test_args;
      result = in.apply_test(test, subject, copy);
    }
    if (result == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value f_select(Interpreter& in, const Value& v, Arguments& a) {
  return select_common(in, v, a, true, false);
}
Value f_reject(Interpreter& in, const Value& v, Arguments& a) {
  return select_common(in, v, a, false, false);
}
Value f_selectattr(Interpreter& in, const Value& v, Arguments& a) {
  return select_common(in, v, a, true, true);
}
Value f_rejectattr(Interpreter& in, const Value& v, Arguments& a) {
  return select_common(in, v, a, false, true);
}

Value min_max(const Value& v, Arguments& args, bool want_max, std::string_view name) {
  Params p(name, args, {"case_sensitive", "attribute"});
  bool case_sensitive = truthy(p.get(0, Value(false)));
  Value attribute = p.get(1, Value::none());
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(attribute_path(items[0], attribute), case_sensitive);
  for (size_t i = 1; i < items.size(); ++i) {
    Value key = sort_key(attribute_path(items[i], attribute), case_sensitive);
    if (want_max ? less_than(best_key, key) : less_than(key, best_key)) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}

Value f_max(Interpreter&, const Value& v, Arguments& a) {
  return min_max(v, a, true, "max");
}
Value f_min(Interpreter&, const Value& v, Arguments& a) {
  return min_max(v, a, false, "min");
}

Value f_replace(Interpreter& in, const Value& v, Arguments& args) {
  Params p("replace", args, {"old", "new", "count"});
  if (!p.get(0) || !p.get(1))
    throw Error(ErrorCode::invalid_argument, "replace() needs old and new");
  Value count = p.get(2, Value::none());
  int64_t n = count.is_none() ? -1 : is_int(count) ? count.integer() : -1;
  return Value(python_replace(soft_str(v), soft_str(*p.get(0)), soft_str(*p.get(1)), n,
                              in.limits().sizes.max_string_bytes));
}

Value f_reverse(Interpreter&, const Value& v, Arguments& args) {
  Params("reverse", args, {});
  if (v.is_string()) {
    std::vector<Value> chars = iterate(v);
    std::string out;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->str();
    return Value(std::move(out));
  }
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value f_round(Interpreter&, const Value& v, Arguments& args) {
  Params p("round", args, {"precision", "method"});
  Value precision_v = p.get(0, Value(0));
  std::string method = soft_str(p.get(1, Value("common")));
  if (method != "common" && method != "ceil" && method != "floor") {
    throw Error(ErrorCode::invalid_argument, "method must be common, ceil or floor");
  }
  if (!v.is_number()) {
    if (v.is_undefined()) throw_undefined(v);
    throw Error(ErrorCode::invalid_argument,
                "type " + type_name(v) + " doesn't define __round__ method");
  }
  if (!is_int(precision_v))
    throw Error(ErrorCode::invalid_argument, "precision must be an integer");
  int64_t precision = std::clamp<int64_t>(precision_v.integer(), -308, 308);
  if (method == "common") {
    if (is_int(v) && precision >= 0) return Value(v.integer());
    double d = v.floating();
    if (std::isnan(d) || std::isinf(d)) return Value(d);
    if (precision < 0 || is_int(v)) {
      double scale = std::pow(10.0, static_cast<double>(-precision));
      double r = std::nearbyint(d / scale) * scale;
      return is_int(v) ? Value(static_cast<int64_t>(r)) : Value(r);
    }
    // Correctly rounded (half-even on the exact binary value), as Python's round().
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), d);
    return Value(std::strtod(buf, nullptr));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.floating() * scale;
  return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_safe(Interpreter&, const Value& v, Arguments& args) {
  Params("safe", args, {});
  return Value(soft_str(v));
}

Value f_sort(Interpreter& in, const Value& v, Arguments& args) {
  Params p("sort", args, {"reverse", "case_sensitive", "attribute"});
  bool reverse = truthy(p.get(0, Value(false)));
  bool case_sensitive = truthy(p.get(1, Value(false)));
  Value attribute = p.get(2, Value::none());
  std::vector<Value> items = iterate(v);
  in.charge(items.size() * 8);
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items)
    keyed.emplace_back(sort_key(attribute_path(item, attribute), case_sensitive), item);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return reverse ? less_than(b.first, a.first) : less_than(a.first, b.first);
  });
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value f_string(Interpreter&, const Value& v, Arguments& args) {
  Params("string", args, {});
  return Value(soft_str(v));
}

Value f_sum(Interpreter& in, const Value& v, Arguments& args) {
  Params p("sum", args, {"attribute", "start"});
  Value attribute = p.get(0, Value::none());
  Value total = p.get(1, Value(0));
  for (const auto& item : iterate(v)) {
    total = binary_operation("+", total, attribute_path(item, attribute), in.limits().sizes);
  }
  return total;
}

// jinja2's title filter: capitalise each word, words split at whitespace and -({[<.
Value f_title(Interpreter&, const Value& v, Arguments& args) {
  Params("title", args, {});
  std::string s = soft_str(v);
  std::string out;
  bool word_start = true;
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = next_code_point(s, i);
    bool separator =
        is_python_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
    if (separator) {
      append_utf8(out, cp);
      word_start = true;
      continue;
    }
    append_utf8(out, word_start ? upper_code_point(cp) : lower_code_point(cp));
    word_start = false;
  }
  return Value(std::move(out));
}

Value f_tojson(Interpreter& in, const Value& v, Arguments& args) {
  Params p("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle style;
  style.ensure_ascii = truthy(p.get(0, Value(false)));
  Value indent = p.get(1, Value::none());
  if (is_int(indent)) {
    style.pretty = true;
    if (indent.integer() > 1024) throw Error(ErrorCode::unsupported, "tojson indent above 1024");
    style.indent.assign(static_cast<size_t>(std::max<int64_t>(indent.integer(), 0)), ' ');
  } else if (indent.is_string()) {
    style.pretty = true;
    style.indent = indent.str();
  } else if (!indent.is_none()) {
    throw Error(ErrorCode::invalid_argument, "tojson indent must be an int, a str or None");
  }
  if (style.pretty) style.item_separator = ",";
  Value separators = p.get(2, Value::none());
  if (!separators.is_none()) {
    if (separators.kind() != Kind::list || separators.list().items.size() != 2 ||
        !separators.list().items[0].is_string() || !separators.list().items[1].is_string()) {
      throw Error(ErrorCode::invalid_argument, "tojson separators must be a pair of strings");
    }
    style.item_separator = separators.list().items[0].str();
    style.key_separator = separators.list().items[1].str();
  }
  style.sort_keys = truthy(p.get(3, Value(false)));
  style.max_bytes = in.limits().sizes.max_string_bytes;
  return Value(to_json(v, style));
}

Value f_trim(Interpreter&, const Value& v, Arguments& args) {
  Params p("trim", args, {"chars"});
  std::string s = soft_str(v);
  const Value* chars = p.get(0);
  if (chars && !chars->is_none())
    return Value(std::string(strip(s, soft_str(*chars), true, true, false)));
  return Value(std::string(strip(s, {}, true, true, true)));
}

Value f_unique(Interpreter& in, const Value& v, Arguments& args) {
  Params p("unique", args, {"case_sensitive", "attribute"});
  bool case_sensitive = truthy(p.get(0, Value(false)));
  Value attribute = p.get(1, Value::none());
  std::vector<Value> items = iterate(v);
  in.charge(items.size() * items.size() / 16 + items.size());
  std::vector<Value> seen;
  std::vector<Value> out;
  for (const auto& item : items) {
    Value key = sort_key(attribute_path(item, attribute), case_sensitive);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); }))
      continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"batch", f_batch},
    {"capitalize", f_capitalize},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", f_dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"first", f_first},
    {"float", f_float},
    {"indent", f_indent},
    {"int", f_int},
    {"items", f_items},
    {"join", f_join},
    {"last", f_last},
    {"length", f_length},
    {"list", f_list},
    {"lower", f_lower},
    {"map", f_map},
    {"max", f_max},
    {"min", f_min},
    {"reject", f_reject},
    {"rejectattr", f_rejectattr},
    {"replace", f_replace},
    {"reverse", f_reverse},
    {"round", f_round},
    {"safe", f_safe},
    {"select", f_select},
    {"selectattr", f_selectattr},
    {"sort", f_sort},
    {"string", f_string},
    {"sum", f_sum},
    {"title", f_title},
    {"tojson", f_tojson},
    {"trim", f_trim},
    {"unique", f_unique},
    {"upper", f_upper},
};

constexpr std::string_view kJinjaFilters[] = {
    "abs",    "attr",       "batch",       "capitalize", "center",   "count",
    "d",      "default",    "dictsort",    "e",          "escape",   "filesizeformat",
    "first",  "float",      "forceescape", "format",     "groupby",  "indent",
    "int",    "items",      "join",        "last",       "length",   "list",
    "lower",  "map",        "max",         "min",        "pprint",   "random",
    "reject", "rejectattr", "replace",     "reverse",    "round",    "safe",
    "select", "selectattr", "slice",       "sort",       "string",   "striptags",
    "sum",    "title",      "tojson",      "trim",       "truncate", "unique",
    "upper",  "urlencode",  "urlize",      "wordcount",  "wordwrap", "xmlattr"};

}  // namespace

FilterFn find_filter(std::string_view name) {
  for (const auto& entry : kFilters) {
    if (entry.name == name) return entry.fn;
  }
  return nullptr;
}

bool is_jinja_filter(std::string_view name) {
  return std::find(std::begin(kJinjaFilters), std::end(kJinjaFilters), name) !=
         std::end(kJinjaFilters);
}

}  // namespace inference::chat::jinja
