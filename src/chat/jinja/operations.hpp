// chat/jinja/operations.hpp — Python's operators over template values (+ - * / // % **,
// comparisons, `in`, iteration, slicing) with Python's results and Python's TypeError /
// jinja2's UndefinedError where Python would raise. Errors are Error(invalid_argument) whose
// message is Python's wording, so a template that fails under jinja2 fails here too.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/value.hpp"

namespace inference::chat::jinja {

/// Bounds on what one render may build (strings and lists), checked by the operations.
struct SizeLimits {
  size_t max_string_bytes = size_t{16} << 20;
  size_t max_list_items = size_t{1} << 20;
};

[[noreturn]] void throw_type_error(const std::string& message);
/// Raises jinja2's UndefinedError for using an Undefined value.
[[noreturn]] void throw_undefined(const Value& undefined);

/// a <op> b for op in + - * / // % **.
Value binary_operation(std::string_view op, const Value& a, const Value& b,
                       const SizeLimits& limits);
/// Python a < b (TypeError for unorderable types).
bool less_than(const Value& a, const Value& b);
/// Python `item in container`.
bool contains(const Value& container, const Value& item);
/// Python iter(v) materialised: list items, dict keys, str characters; Undefined is empty.
std::vector<Value> iterate(const Value& v);
/// obj[start:stop:step] for str and list (absent bounds are nullopt).
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
/// Python int index into a sequence of `size` (negative counts from the end); nullopt when out
/// of range.
std::optional<size_t> sequence_index(int64_t index, size_t size);
/// The i-th code point of a str (Python s[i]).
std::string code_point_at(const std::string& s, size_t index);

}  // namespace inference::chat::jinja
