// chat/jinja/value.hpp — the data model of the Jinja interpreter: Python's values as templates
// see them (None, bool, int, float, str, list/tuple, dict with insertion order, jinja2's
// Undefined and namespace, callables), with Python's truthiness, equality, str() and repr().
// Lists and dicts are immutable once built (the sandbox forbids mutating methods), so values
// share them by pointer; only a namespace is mutable, as in jinja2.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace inference::chat::jinja {

class Interpreter;
class Value;

/// Arguments of a call: positional then keyword, as written.
struct Arguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

struct List;
class Dict;

/// A callable: a global function, a filter used as a value, a bound method or a macro.
struct Function {
  std::string name;
  std::function<Value(Interpreter&, Arguments&)> call;
};

enum class Kind { undefined, none, boolean, integer, floating, string, list, dict, ns, function };

class Value {
 public:
  Value() = default;  ///< Undefined
  static Value undefined(std::string hint);
  static Value none();
  Value(bool b) : kind_(Kind::boolean), bool_(b) {}
  Value(int64_t i) : kind_(Kind::integer), int_(i) {}
  Value(int i) : kind_(Kind::integer), int_(i) {}
  Value(double f) : kind_(Kind::floating), float_(f) {}
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  static Value list(std::vector<Value> items, bool tuple = false);
  static Value dict(Dict dict);
  static Value make_namespace(Dict attributes);
  static Value function(std::string name, std::function<Value(Interpreter&, Arguments&)> call);

  Kind kind() const noexcept { return kind_; }
  bool is_undefined() const noexcept { return kind_ == Kind::undefined; }
  bool is_none() const noexcept { return kind_ == Kind::none; }
  bool is_string() const noexcept { return kind_ == Kind::string; }
  bool is_number() const noexcept {
    return kind_ == Kind::integer || kind_ == Kind::floating || kind_ == Kind::boolean;
  }
  bool boolean() const noexcept { return bool_; }
  int64_t integer() const noexcept { return kind_ == Kind::boolean ? int64_t{bool_} : int_; }
  double floating() const noexcept {
    return kind_ == Kind::floating ? float_ : static_cast<double>(integer());
  }
  const std::string& str() const noexcept { return *string_; }
  /// For Undefined: what was missing ("'dict object' has no attribute 'x'"), may be empty.
  const std::string& undefined_hint() const noexcept;
  const List& list() const noexcept { return *list_; }
  const Dict& dict() const noexcept { return *dict_; }
  Dict& namespace_attributes() const noexcept { return *dict_; }
  const Function& function() const noexcept { return *function_; }
  /// Identity of shared objects (namespace and function `is sameas`, equality).
  const void* identity() const noexcept;

 private:
  Kind kind_ = Kind::undefined;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const std::string> string_;  // str, or Undefined's hint
  std::shared_ptr<const List> list_;
  std::shared_ptr<Dict> dict_;  // dict (never mutated once shared) or namespace (mutable)
  std::shared_ptr<const Function> function_;
};

struct List {
  std::vector<Value> items;
  bool tuple = false;  ///< only changes repr(): (a, b) instead of [a, b]
  int depth = 1;       ///< nesting of lists/dicts inside, bounded (see kMaxValueDepth)
};

/// Deepest nesting of lists and dicts a value may have: recursive operations on values
/// (printing, comparing, destroying) stay within the stack.
constexpr int kMaxValueDepth = 256;

/// A str-keyed dict that keeps insertion order, like a Python dict built from JSON.
class Dict {
 public:
  const Value* find(std::string_view key) const;
  /// Adds `key` at the end, or replaces its value in place (order kept).
  void set(std::string key, Value value);
  const std::vector<std::pair<std::string, Value>>& items() const noexcept { return items_; }
  size_t size() const noexcept { return items_.size(); }
  int depth() const noexcept { return depth_; }
  void clear() noexcept {
    items_.clear();
    index_.clear();
    depth_ = 1;
  }

 private:
  int depth_ = 1;
  std::vector<std::pair<std::string, Value>> items_;
  std::unordered_map<std::string, size_t> index_;
};

/// Python truthiness (Undefined is false).
bool truthy(const Value& v);
/// Python ==.
bool equals(const Value& a, const Value& b);
/// Python type name for messages: "NoneType", "str", "dict", …
std::string type_name(const Value& v);
/// jinja2's description of an object in undefined messages: "'dict object'", "None", …
std::string object_description(const Value& v);
/// Python str(v); Undefined is "". Throws Error(unsupported) for callables.
std::string to_str(const Value& v);
/// Python repr(v).
std::string repr(const Value& v);
/// Python float repr (shortest round-trip, "1.0", "1e+16").
std::string python_float_repr(double d);

/// json.dumps options as the tojson filter passes them.
struct JsonStyle {
  bool ensure_ascii = false;
  bool pretty = false;  ///< indent given (newlines even when the indent is empty)
  std::string indent;   ///< one level of indentation when pretty
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  size_t max_bytes = size_t{16} << 20;  ///< larger output is an error
};
/// json.dumps(v); throws Error(invalid_argument) for values JSON cannot hold.
std::string to_json(const Value& v, const JsonStyle& style);

/// Converts parsed JSON (keys kept in the given order) into template values. Throws
/// Error(invalid_argument) for strings that are not valid UTF-8.
Value from_json(const nlohmann::ordered_json& json);
Value from_json(const nlohmann::json& json);

}  // namespace inference::chat::jinja
