#include "chat/jinja/operations.hpp"

#include <algorithm>
#include <cmath>

#include "chat/jinja/unicode.hpp"
#include "inference/error.hpp"

namespace inference::chat::jinja {

void throw_type_error(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message);
}

void throw_undefined(const Value& undefined) {
  const std::string& hint = undefined.undefined_hint();
  throw Error(ErrorCode::invalid_argument, hint.empty() ? "value is undefined" : hint);
}

namespace {

bool is_int(const Value& v) {
  return v.kind() == Kind::integer || v.kind() == Kind::boolean;
}

[[noreturn]] void overflow() {
  throw Error(ErrorCode::unsupported, "integer overflow: values beyond 64 bits are not supported");
}

[[noreturn]] void unsupported_operands(std::string_view op, const Value& a, const Value& b) {
  throw_type_error("unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) +
                   "' and '" + type_name(b) + "'");
}

void check_string(size_t bytes, const SizeLimits& limits) {
  if (bytes > limits.max_string_bytes) {
    throw Error(ErrorCode::invalid_argument, "template builds a string larger than the limit of " +
                                                 std::to_string(limits.max_string_bytes) +
                                                 " bytes");
  }
}

void check_list(size_t items, const SizeLimits& limits) {
  if (items > limits.max_list_items) {
    throw Error(ErrorCode::invalid_argument, "template builds a list longer than the limit of " +
                                                 std::to_string(limits.max_list_items) + " items");
  }
}

Value repeat(const Value& seq, int64_t times, const SizeLimits& limits) {
  if (times < 0) times = 0;
  auto n = static_cast<uint64_t>(times);
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (!s.empty() && n > limits.max_string_bytes / s.size()) check_string(SIZE_MAX, limits);
    std::string out;
    out.reserve(s.size() * n);
    for (uint64_t i = 0; i < n; ++i) out += s;
    return Value(std::move(out));
  }
  const auto& items = seq.list().items;
  if (!items.empty() && n > limits.max_list_items / items.size()) check_list(SIZE_MAX, limits);
  std::vector<Value> out;
  out.reserve(items.size() * n);
  for (uint64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), seq.list().tuple);
}

double python_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Value power(const Value& a, const Value& b) {
  if (is_int(a) && is_int(b) && b.integer() >= 0) {
    int64_t base = a.integer();
    int64_t exp = b.integer();
    int64_t result = 1;
    while (exp > 0) {
      if (exp & 1) {
        if (__builtin_mul_overflow(result, base, &result)) overflow();
      }
      exp >>= 1;
      if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
    }
    return Value(result);
  }
  if (a.floating() == 0.0 && b.floating() < 0) {
    throw Error(ErrorCode::invalid_argument, "0.0 cannot be raised to a negative power");
  }
  return Value(std::pow(a.floating(), b.floating()));
}

}  // namespace

Value binary_operation(std::string_view op, const Value& a, const Value& b,
                       const SizeLimits& limits) {
  if (a.is_undefined()) throw_undefined(a);
  if (b.is_undefined()) throw_undefined(b);
  const bool numbers = a.is_number() && b.is_number();
  const bool ints = is_int(a) && is_int(b);
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.integer(), b.integer(), &r)) overflow();
      return Value(r);
    }
    if (numbers) return Value(a.floating() + b.floating());
    if (a.is_string() && b.is_string()) {
      check_string(a.str().size() + b.str().size(), limits);
      return Value(a.str() + b.str());
    }
    if (a.kind() == Kind::list && b.kind() == Kind::list && a.list().tuple == b.list().tuple) {
      check_list(a.list().items.size() + b.list().items.size(), limits);
      std::vector<Value> items = a.list().items;
      items.insert(items.end(), b.list().items.begin(), b.list().items.end());
      return Value::list(std::move(items), a.list().tuple);
    }
    if (a.is_string() || a.kind() == Kind::list) {
      throw_type_error("can only concatenate " + type_name(a) + " (not \"" + type_name(b) +
                       "\") to " + type_name(a));
    }
    unsupported_operands("+", a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(a.integer(), b.integer(), &r)) overflow();
      return Value(r);
    }
    if (numbers) return Value(a.floating() * b.floating());
    if ((a.is_string() || a.kind() == Kind::list) && is_int(b))
      return repeat(a, b.integer(), limits);
    if ((b.is_string() || b.kind() == Kind::list) && is_int(a))
      return repeat(b, a.integer(), limits);
    if (a.is_string() || a.kind() == Kind::list || b.is_string() || b.kind() == Kind::list) {
      throw_type_error("can't multiply sequence by non-int of type '" +
                       type_name(a.is_string() || a.kind() == Kind::list ? b : a) + "'");
    }
    unsupported_operands("*", a, b);
  }
  if (!numbers) {
    if (op == "%" && a.is_string()) {
      throw Error(ErrorCode::unsupported, "printf-style string formatting ('%') is not supported");
    }
    unsupported_operands(op == "**" ? "** or pow()" : op, a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.integer(), b.integer(), &r)) overflow();
      return Value(r);
    }
    return Value(a.floating() - b.floating());
  }
  if (op == "/") {
    if (b.floating() == 0.0) throw Error(ErrorCode::invalid_argument, "division by zero");
    return Value(a.floating() / b.floating());
  }
  if (op == "//" || op == "%") {
    if (ints) {
      int64_t x = a.integer();
      int64_t y = b.integer();
      if (y == 0) {
        throw Error(ErrorCode::invalid_argument,
                    op == "//" ? "integer division or modulo by zero" : "integer modulo by zero");
      }
      if (x == INT64_MIN && y == -1) {
        if (op == "%") return Value(int64_t{0});
        overflow();
      }
      int64_t q = x / y;
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      return op == "//" ? Value(q) : Value(r);
    }
    double y = b.floating();
    if (y == 0.0) {
      throw Error(ErrorCode::invalid_argument,
                  op == "//" ? "float floor division by zero" : "float modulo");
    }
    double x = a.floating();
    if (op == "%") return Value(python_fmod(x, y));
    return Value(std::floor(x / y));
  }
  if (op == "**") return power(a, b);
  throw Error(ErrorCode::unsupported, "operator '" + std::string(op) + "' is not supported");
}

bool less_than(const Value& a, const Value& b) {
  if (a.is_undefined()) throw_undefined(a);
  if (b.is_undefined()) throw_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (is_int(a) && is_int(b)) return a.integer() < b.integer();
    return a.floating() < b.floating();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();
  if (a.kind() == Kind::list && b.kind() == Kind::list && a.list().tuple == b.list().tuple) {
    const auto& x = a.list().items;
    const auto& y = b.list().items;
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      if (!equals(x[i], y[i])) return less_than(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  throw_type_error("'<' not supported between instances of '" + type_name(a) + "' and '" +
                   type_name(b) + "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::undefined:
      return false;
    case Kind::string:
      if (!item.is_string()) {
        if (item.is_undefined()) throw_undefined(item);
        throw_type_error("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.str().find(item.str()) != std::string::npos;
    case Kind::list:
      return std::any_of(container.list().items.begin(), container.list().items.end(),
                         [&](const Value& v) { return equals(v, item); });
    case Kind::dict:
      if (item.kind() == Kind::list && !item.list().tuple)
        throw_type_error("unhashable type: 'list'");
      if (item.kind() == Kind::dict) throw_type_error("unhashable type: 'dict'");
      return item.is_string() && container.dict().find(item.str()) != nullptr;
    default:
      throw_type_error("argument of type '" + type_name(container) + "' is not iterable");
  }
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined:
      return {};
    case Kind::list:
      return v.list().items;
    case Kind::dict: {
      std::vector<Value> keys;
      keys.reserve(v.dict().size());
      for (const auto& entry : v.dict().items()) keys.emplace_back(entry.first);
      return keys;
    }
    case Kind::string: {
      std::vector<Value> chars;
      const std::string& s = v.str();
      size_t i = 0;
      while (i < s.size()) {
        size_t start = i;
        next_code_point(s, i);
        chars.emplace_back(s.substr(start, i - start));
      }
      return chars;
    }
    default:
      throw_type_error("'" + type_name(v) + "' object is not iterable");
  }
}

std::optional<size_t> sequence_index(int64_t index, size_t size) {
  auto n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return std::nullopt;
  return static_cast<size_t>(index);
}

std::string code_point_at(const std::string& s, size_t index) {
  size_t i = 0;
  for (size_t k = 0; k < index; ++k) next_code_point(s, i);
  size_t start = i;
  next_code_point(s, i);
  return s.substr(start, i - start);
}

Value slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  auto bound = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    if (!is_int(v)) {
      throw_type_error("slice indices must be integers or None or have an __index__ method");
    }
    return v.integer();
  };
  std::optional<int64_t> start = bound(start_v);
  std::optional<int64_t> stop = bound(stop_v);
  int64_t step = bound(step_v).value_or(1);
  if (step == 0) throw Error(ErrorCode::invalid_argument, "slice step cannot be zero");
  if (step == INT64_MIN) step = -INT64_MAX;

  std::vector<size_t> offsets;  // str: code point offsets
  int64_t length = 0;
  if (obj.is_string()) {
    offsets = code_point_offsets(obj.str());
    length = static_cast<int64_t>(offsets.size()) - 1;
  } else if (obj.kind() == Kind::list) {
    length = static_cast<int64_t>(obj.list().items.size());
  } else {
    throw_type_error("'" + type_name(obj) + "' object is not subscriptable");
  }
  // PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) {
      x += length;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= length) {
      x = step < 0 ? length - 1 : length;
    }
    return x;
  };
  int64_t lo = adjust(start, step < 0 ? length - 1 : 0);
  int64_t hi = adjust(stop, step < 0 ? -1 : length);
  std::vector<int64_t> picks;
  if (step > 0) {
    for (int64_t i = lo; i < hi; i += step) picks.push_back(i);
  } else {
    for (int64_t i = lo; i > hi; i += step) picks.push_back(i);
  }
  if (obj.is_string()) {
    const std::string& s = obj.str();
    std::string out;
    for (int64_t i : picks) {
      auto k = static_cast<size_t>(i);
      out.append(s, offsets[k], offsets[k + 1] - offsets[k]);
    }
    return Value(std::move(out));
  }
  std::vector<Value> out;
  out.reserve(picks.size());
  for (int64_t i : picks) out.push_back(obj.list().items[static_cast<size_t>(i)]);
  return Value::list(std::move(out), obj.list().tuple);
}

}  // namespace inference::chat::jinja
