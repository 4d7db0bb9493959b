// chat/jinja/builtins.hpp — the filters, tests and global functions templates can call, and
// attribute lookup (methods of str, dict and list) — Python and jinja2 semantics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chat/jinja/value.hpp"

namespace inference::chat::jinja {

using FilterFn = Value (*)(Interpreter&, const Value& subject, Arguments& args);
using TestFn = bool (*)(Interpreter&, const Value& subject, Arguments& args);

/// The implementation of a filter/test, or null when we have none.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
/// Whether jinja2 (3.1) has a built-in filter/test of that name.
bool is_jinja_filter(std::string_view name);
bool is_jinja_test(std::string_view name);

/// `obj.name` with jinja2's sandboxed getattr: methods of str/dict/list first, then items;
/// Undefined (carrying a hint) when absent. Throws UndefinedError-like Error on Undefined.
Value get_attribute(const Value& obj, std::string_view name);
/// `obj[key]`: items first, then attributes for str keys; Undefined when absent.
Value get_item(const Value& obj, const Value& key);

/// jinja2's `attr` filter: attributes only (methods, namespace members), never items.
Value get_attribute_only(const Value& obj, std::string_view name);

/// Python str methods shared by filters.
std::string python_replace(const std::string& s, const std::string& old, const std::string& repl,
                           int64_t count, size_t max_bytes);
std::string python_title(const std::string& s);
std::string python_capitalize(const std::string& s);

/// A fresh dict of the global functions (range, dict, namespace, raise_exception, strftime_now).
void add_globals(Dict& globals);

}  // namespace inference::chat::jinja
