// Global functions of the Hugging Face chat-template environment: range (sandbox-capped),
// dict, namespace, raise_exception and strftime_now; lipsum/cycler/joiner are unsupported.
#include <ctime>

#include "chat/jinja/arguments.hpp"
#include "chat/jinja/builtins.hpp"
#include "chat/jinja/interpreter.hpp"

namespace inference::chat::jinja {
namespace {

// jinja2.sandbox.MAX_RANGE.
constexpr int64_t kMaxRange = 100000;

bool is_int(const Value& v) {
  return v.kind() == Kind::integer || v.kind() == Kind::boolean;
}

Value g_range(Interpreter& in, Arguments& args) {
  if (!args.keyword.empty())
    throw Error(ErrorCode::invalid_argument, "range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) {
    throw Error(ErrorCode::invalid_argument,
                "range expected 1 to 3 arguments, got " + std::to_string(p.size()));
  }
  for (const auto& v : p) {
    if (v.is_undefined()) throw_undefined(v);
    if (!is_int(v)) {
      throw Error(ErrorCode::invalid_argument,
                  "'" + type_name(v) + "' object cannot be interpreted as an integer");
    }
  }
  int64_t start = p.size() == 1 ? 0 : p[0].integer();
  int64_t stop = p.size() == 1 ? p[0].integer() : p[1].integer();
  int64_t step = p.size() == 3 ? p[2].integer() : 1;
  if (step == 0) throw Error(ErrorCode::invalid_argument, "range() arg 3 must not be zero");
  // Length computed in long double so huge bounds cannot overflow.
  long double span = static_cast<long double>(stop) - static_cast<long double>(start);
  long double count = step > 0 ? (span + step - 1) / step : (span + step + 1) / step;
  if (count < 0) count = 0;
  if (count > kMaxRange) {
    throw Error(ErrorCode::invalid_argument,
                "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  auto n = static_cast<int64_t>(count);
  in.charge(static_cast<uint64_t>(n));
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) items.emplace_back(start + i * step);
  return Value::list(std::move(items));
}

Dict dict_from_args(std::string_view fn, Arguments& args) {
  Dict dict;
  if (args.positional.size() > 1) {
    throw Error(ErrorCode::invalid_argument, std::string(fn) + " expected at most 1 argument");
  }
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.kind() == Kind::dict) {
      for (const auto& [key, value] : src.dict().items()) dict.set(key, value);
    } else {
      throw Error(ErrorCode::unsupported,
                  std::string(fn) + " from a " + type_name(src) + " (only a dict or keywords)");
    }
  }
  for (auto& [key, value] : args.keyword) dict.set(key, value);
  return dict;
}

Value g_dict(Interpreter&, Arguments& args) {
  return Value::dict(dict_from_args("dict", args));
}

Value g_namespace(Interpreter& in, Arguments& args) {
  Value ns = Value::make_namespace(dict_from_args("namespace", args));
  in.adopt_namespace(ns);
  return ns;
}

Value g_raise_exception(Interpreter&, Arguments& args) {
  Params p("raise_exception", args, {"message"});
  throw TemplateRaise(p.get(0) ? to_str(*p.get(0)) : std::string());
}

Value g_strftime_now(Interpreter& in, Arguments& args) {
  Params p("strftime_now", args, {"format"});
  if (!p.get(0) || !p.get(0)->is_string()) {
    throw Error(ErrorCode::invalid_argument, "strftime_now() needs a format string");
  }
  const std::string& format = p.get(0)->str();
  if (format.empty()) return Value("");
  std::tm now = in.now();
  // strftime reports 0 both for "too small" and for an empty result; grow to a bound.
  for (size_t size = 256; size <= (size_t{1} << 20); size *= 4) {
    std::string buf(size, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &now);
    if (n > 0) {
      buf.resize(n);
      return Value(std::move(buf));
    }
  }
  return Value("");
}

Value unsupported_global(std::string name) {
  return Value::function(name, [name](Interpreter&, Arguments&) -> Value {
    throw Error(ErrorCode::unsupported, "the global function '" + name + "' is not supported");
  });
}

}  // namespace

void add_globals(Dict& globals) {
  globals.set("range", Value::function("range", g_range));
  globals.set("dict", Value::function("dict", g_dict));
  globals.set("namespace", Value::function("namespace", g_namespace));
  globals.set("raise_exception", Value::function("raise_exception", g_raise_exception));
  globals.set("strftime_now", Value::function("strftime_now", g_strftime_now));
  for (const char* name : {"lipsum", "cycler", "joiner"})
    globals.set(name, unsupported_global(name));
}

}  // namespace inference::chat::jinja
