// The built-in tests (`x is defined`, `x is string`, …) with jinja2 3.1's semantics.
#include <algorithm>

#include "chat/jinja/arguments.hpp"
#include "chat/jinja/builtins.hpp"
#include "chat/jinja/interpreter.hpp"
#include "chat/jinja/operations.hpp"
#include "chat/jinja/unicode.hpp"

namespace inference::chat::jinja {
namespace {

// One required comparison operand.
const Value& operand(std::string_view test, const Params& p) {
  if (!p.get(0)) {
    throw Error(ErrorCode::invalid_argument,
                "test '" + std::string(test) + "' missing required argument");
  }
  return *p.get(0);
}

#define SIMPLE_TEST(fn, expr)                                            \
  bool fn(Interpreter&, [[maybe_unused]] const Value& v, Arguments& a) { \
    Params(#fn, a, {});                                                  \
    return (expr);                                                       \
  }

SIMPLE_TEST(t_defined, !v.is_undefined())
SIMPLE_TEST(t_undefined, v.is_undefined())
SIMPLE_TEST(t_none, v.is_none())
SIMPLE_TEST(t_boolean, v.kind() == Kind::boolean)
SIMPLE_TEST(t_false, v.kind() == Kind::boolean && !v.boolean())
SIMPLE_TEST(t_true, v.kind() == Kind::boolean && v.boolean())
SIMPLE_TEST(t_integer, v.kind() == Kind::integer)
SIMPLE_TEST(t_float, v.kind() == Kind::floating)
SIMPLE_TEST(t_number, v.is_number())
SIMPLE_TEST(t_string, v.is_string())
SIMPLE_TEST(t_mapping, v.kind() == Kind::dict)
SIMPLE_TEST(t_iterable,
            v.is_undefined() || v.is_string() || v.kind() == Kind::list || v.kind() == Kind::dict)
SIMPLE_TEST(t_sequence, v.is_string() || v.kind() == Kind::list || v.kind() == Kind::dict)
SIMPLE_TEST(t_callable, v.kind() == Kind::function)
SIMPLE_TEST(t_escaped, false)

#undef SIMPLE_TEST

bool parity(const Value& v, int64_t want) {
  if (v.is_undefined()) throw_undefined(v);
  Value r = binary_operation("%", v, Value(2), SizeLimits{});
  return equals(r, Value(want));
}

bool t_odd(Interpreter&, const Value& v, Arguments& a) {
  Params("odd", a, {});
  return parity(v, 1);
}

bool t_even(Interpreter&, const Value& v, Arguments& a) {
  Params("even", a, {});
  return parity(v, 0);
}

bool t_divisibleby(Interpreter&, const Value& v, Arguments& a) {
  Params p("divisibleby", a, {"num"});
  Value r = binary_operation("%", v, operand("divisibleby", p), SizeLimits{});
  return equals(r, Value(0));
}

bool t_eq(Interpreter&, const Value& v, Arguments& a) {
  Params p("eq", a, {"other"});
  return equals(v, operand("eq", p));
}
bool t_ne(Interpreter&, const Value& v, Arguments& a) {
  Params p("ne", a, {"other"});
  return !equals(v, operand("ne", p));
}
bool t_lt(Interpreter&, const Value& v, Arguments& a) {
  Params p("lt", a, {"other"});
  return less_than(v, operand("lt", p));
}
bool t_gt(Interpreter&, const Value& v, Arguments& a) {
  Params p("gt", a, {"other"});
  return less_than(operand("gt", p), v);
}
bool t_le(Interpreter&, const Value& v, Arguments& a) {
  Params p("le", a, {"other"});
  const Value& o = operand("le", p);
  bool lt = less_than(v, o);  // raises for unorderable types, like Python's <=
  return lt || equals(v, o);
}
bool t_ge(Interpreter&, const Value& v, Arguments& a) {
  Params p("ge", a, {"other"});
  const Value& o = operand("ge", p);
  bool gt = less_than(o, v);
  return gt || equals(v, o);
}
bool t_in(Interpreter&, const Value& v, Arguments& a) {
  Params p("in", a, {"seq"});
  return contains(operand("in", p), v);
}
bool t_sameas(Interpreter&, const Value& v, Arguments& a) {
  Params p("sameas", a, {"other"});
  const Value& o = operand("sameas", p);
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::undefined:
    case Kind::none:
      return true;
    case Kind::boolean:
      return v.boolean() == o.boolean();
    case Kind::list:
    case Kind::dict:
    case Kind::ns:
    case Kind::function:
      return v.identity() == o.identity();
    default:
      throw Error(ErrorCode::unsupported,
                  "'sameas' on " + type_name(v) + " values (Python object identity)");
  }
}

bool t_lower(Interpreter&, const Value& v, Arguments& a) {
  Params("lower", a, {});
  std::string s = to_str(v);
  return to_lower(s) == s && to_upper(s) != s;  // str.islower(): some cased, none upper
}
bool t_upper(Interpreter&, const Value& v, Arguments& a) {
  Params("upper", a, {});
  std::string s = to_str(v);
  return to_upper(s) == s && to_lower(s) != s;
}
bool t_filter(Interpreter&, const Value& v, Arguments& a) {
  Params("filter", a, {});
  return v.is_string() && find_filter(v.str()) != nullptr;
}
bool t_test(Interpreter&, const Value& v, Arguments& a) {
  Params("test", a, {});
  return v.is_string() && find_test(v.str()) != nullptr;
}

struct TestEntry {
  std::string_view name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"defined", t_defined},
    {"undefined", t_undefined},
    {"none", t_none},
    {"boolean", t_boolean},
    {"false", t_false},
    {"true", t_true},
    {"integer", t_integer},
    {"float", t_float},
    {"number", t_number},
    {"string", t_string},
    {"mapping", t_mapping},
    {"iterable", t_iterable},
    {"sequence", t_sequence},
    {"callable", t_callable},
    {"escaped", t_escaped},
    {"odd", t_odd},
    {"even", t_even},
    {"divisibleby", t_divisibleby},
    {"eq", t_eq},
    {"equalto", t_eq},
    {"==", t_eq},
    {"ne", t_ne},
    {"!=", t_ne},
    {"lt", t_lt},
    {"lessthan", t_lt},
    {"<", t_lt},
    {"le", t_le},
    {"<=", t_le},
    {"gt", t_gt},
    {"greaterthan", t_gt},
    {">", t_gt},
    {"ge", t_ge},
    {">=", t_ge},
    {"in", t_in},
    {"sameas", t_sameas},
    {"lower", t_lower},
    {"upper", t_upper},
    {"filter", t_filter},
    {"test", t_test},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const auto& entry : kTests) {
    if (entry.name == name) return entry.fn;
  }
  return nullptr;
}

bool is_jinja_test(std::string_view name) {
  return find_test(name) != nullptr;
}

}  // namespace inference::chat::jinja
