#include "chat/jinja/interpreter.hpp"

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/unicode.hpp"

namespace inference::chat::jinja {

Interpreter::Interpreter(const Program& program, Limits limits, std::function<std::tm()> clock)
    : program_(program), limits_(limits), clock_(std::move(clock)) {}

std::string Interpreter::render(const Dict& variables) {
  Frame globals;
  Dict functions;
  add_globals(functions);
  for (const auto& [name, value] : functions.items()) globals.vars[name] = value;
  for (const auto& [name, value] : variables.items()) globals.vars[name] = value;
  Frame root;
  root.parent = &globals;
  std::string output;
  out_ = &output;
  struct Cleanup {
    Interpreter& self;
    ~Cleanup() {
      for (auto& ns : self.namespaces_) ns.namespace_attributes().clear();
      self.namespaces_.clear();
      self.kept_frames_.clear();
    }
  } cleanup{*this};
  try {
    exec_body(program_.body, root);
  } catch (const TemplateRaise&) {
    throw;
  } catch (const Error& e) {
    throw Error(e.code(), "template error at line " + std::to_string(line_) + ": " + e.what());
  }
  return output;
}

void Interpreter::charge(uint64_t units) {
  steps_ += units;
  if (steps_ > limits_.max_steps) {
    throw Error(ErrorCode::invalid_argument, "template exceeded its work limit of " +
                                                 std::to_string(limits_.max_steps) +
                                                 " steps (runaway loop?)");
  }
}

void Interpreter::emit(std::string_view text) {
  if (out_->size() + text.size() > limits_.sizes.max_string_bytes) {
    throw Error(ErrorCode::invalid_argument, "template output exceeds the limit of " +
                                                 std::to_string(limits_.sizes.max_string_bytes) +
                                                 " bytes");
  }
  out_->append(text);
}

std::unique_ptr<Interpreter::Frame> Interpreter::child_frame(Frame& parent) {
  auto frame = std::make_unique<Frame>();
  frame->parent = &parent;
  return frame;
}

void Interpreter::release_frame(std::unique_ptr<Frame> frame) {
  if (frame->pinned) kept_frames_.push_back(std::move(frame));
}

Value Interpreter::lookup(const std::string& name, Frame& frame) const {
  for (const Frame* f = &frame; f; f = f->parent) {
    auto it = f->vars.find(name);
    if (it != f->vars.end()) return it->second;
  }
  return Value::undefined("'" + name + "' is undefined");
}

std::string Interpreter::capture(const Body& body, Frame& frame) {
  std::string buffer;
  std::string* saved = out_;
  out_ = &buffer;
  try {
    exec_body(body, frame);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buffer;
}

// ---- statements ----

Interpreter::Flow Interpreter::exec_body(const Body& body, Frame& frame) {
  for (const auto& stmt : body) {
    Flow flow = exec(*stmt, frame);
    if (flow != Flow::normal) return flow;
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& stmt, Frame& frame) {
  charge(1);
  line_ = stmt.line;
  switch (stmt.kind) {
    case StmtKind::text:
      emit(stmt.text);
      break;
    case StmtKind::output: {
      Value v = eval(*stmt.expr, frame);
      emit(to_str(v));
      break;
    }
    case StmtKind::if_chain:
      for (const auto& [test, body] : stmt.branches) {
        if (truthy(eval(*test, frame))) return exec_body(body, frame);
      }
      return exec_body(stmt.else_body, frame);
    case StmtKind::for_loop:
      return exec_for(stmt, frame);
    case StmtKind::set:
      exec_set(stmt, frame, eval(*stmt.expr, frame));
      break;
    case StmtKind::set_block: {
      Value captured(capture(stmt.body, frame));
      if (stmt.expr) captured = eval_filter_chain(*stmt.expr, frame, &captured);
      exec_set(stmt, frame, std::move(captured));
      break;
    }
    case StmtKind::macro:
      define_macro(stmt, frame);
      break;
    case StmtKind::filter_block: {
      Value captured(capture(stmt.body, frame));
      emit(to_str(eval_filter_chain(*stmt.expr, frame, &captured)));
      break;
    }
    case StmtKind::with_block: {
      auto scope = child_frame(frame);
      for (const auto& [name, expr] : stmt.assignments) scope->vars[name] = eval(*expr, frame);
      Flow flow = exec_body(stmt.body, *scope);
      release_frame(std::move(scope));
      return flow;
    }
    case StmtKind::loop_break:
      return Flow::loop_break;
    case StmtKind::loop_continue:
      return Flow::loop_continue;
    case StmtKind::generation:
      return exec_body(stmt.body, frame);
  }
  return Flow::normal;
}

namespace {

// Binds one loop item to the loop's target names (tuple unpacking like Python).
void bind_target(const Target& target, const Value& item,
                 std::unordered_map<std::string, Value>& vars) {
  if (!target.unpack) {
    vars[target.names[0]] = item;
    return;
  }
  std::vector<Value> parts = iterate(item);
  if (parts.size() < target.names.size()) {
    throw Error(ErrorCode::invalid_argument, "not enough values to unpack (expected " +
                                                 std::to_string(target.names.size()) + ", got " +
                                                 std::to_string(parts.size()) + ")");
  }
  if (parts.size() > target.names.size()) {
    throw Error(ErrorCode::invalid_argument,
                "too many values to unpack (expected " + std::to_string(target.names.size()) + ")");
  }
  for (size_t i = 0; i < parts.size(); ++i) vars[target.names[i]] = parts[i];
}

}  // namespace

Interpreter::Flow Interpreter::exec_for(const Stmt& stmt, Frame& frame) {
  Value iterable = eval(*stmt.expr, frame);
  std::vector<Value> items = iterate(iterable);
  charge(items.size());
  if (stmt.condition) {
    // The loop filter runs first, so loop.index/length count only the kept items.
    std::vector<Value> kept;
    for (const auto& item : items) {
      auto scope = child_frame(frame);
      bind_target(stmt.target, item, scope->vars);
      if (truthy(eval(*stmt.condition, *scope))) kept.push_back(item);
      release_frame(std::move(scope));
    }
    items = std::move(kept);
  }
  const auto length = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < length; ++i) {
    charge(8);  // an iteration builds the loop object: count it as the work it is
    const auto index = static_cast<size_t>(i);
    Dict loop;
    loop.set("index", Value(i + 1));
    loop.set("index0", Value(i));
    loop.set("revindex", Value(length - i));
    loop.set("revindex0", Value(length - i - 1));
    loop.set("first", Value(i == 0));
    loop.set("last", Value(i == length - 1));
    loop.set("length", Value(length));
    loop.set("depth", Value(1));
    loop.set("depth0", Value(0));
    if (i > 0) loop.set("previtem", items[index - 1]);
    if (i + 1 < length) loop.set("nextitem", items[index + 1]);
    loop.set("cycle", Value::function("loop.cycle", [i](Interpreter&, Arguments& args) {
               if (args.positional.empty()) {
                 throw Error(ErrorCode::invalid_argument, "no items for cycling given");
               }
               return args.positional[static_cast<size_t>(i) % args.positional.size()];
             }));
    loop.set("changed", Value::function("loop.changed", [](Interpreter&, Arguments&) -> Value {
               throw Error(ErrorCode::unsupported, "loop.changed() is not supported");
             }));
    auto scope = child_frame(frame);
    scope->vars["loop"] = Value::dict(std::move(loop));
    bind_target(stmt.target, items[index], scope->vars);
    Flow flow = exec_body(stmt.body, *scope);
    release_frame(std::move(scope));
    if (flow == Flow::loop_break) break;
  }
  if (items.empty()) return exec_body(stmt.else_body, frame);
  return Flow::normal;
}

void Interpreter::exec_set(const Stmt& stmt, Frame& frame, Value value) {
  const Target& target = stmt.target;
  if (!target.attribute.empty()) {
    Value ns = lookup(target.names[0], frame);
    if (ns.kind() != Kind::ns) {
      throw Error(ErrorCode::invalid_argument, "cannot assign attribute on non-namespace object");
    }
    ns.namespace_attributes().set(target.attribute, std::move(value));
    return;
  }
  bind_target(target, value, frame.vars);
}

void Interpreter::define_macro(const Stmt& stmt, Frame& frame) {
  for (Frame* f = &frame; f; f = f->parent) f->pinned = true;
  Frame* scope = &frame;
  const Stmt* def = &stmt;
  frame.vars[stmt.name] =
      Value::function(stmt.name, [def, scope](Interpreter& self, Arguments& args) {
        return self.call_macro(*def, scope, args);
      });
}

Value Interpreter::call_macro(const Stmt& stmt, Frame* scope, Arguments& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    throw Error(ErrorCode::invalid_argument, "macro calls nested deeper than " +
                                                 std::to_string(limits_.max_call_depth) +
                                                 " (runaway recursion?)");
  }
  if (args.positional.size() > stmt.params.size()) {
    throw Error(ErrorCode::invalid_argument, "macro '" + stmt.name + "' takes not more than " +
                                                 std::to_string(stmt.params.size()) +
                                                 " argument(s)");
  }
  auto local = child_frame(*scope);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    local->vars[stmt.params[i]] = args.positional[i];
  }
  for (auto& [key, value] : args.keyword) {
    size_t i = 0;
    while (i < stmt.params.size() && stmt.params[i] != key) ++i;
    if (i == stmt.params.size()) {
      throw Error(ErrorCode::invalid_argument,
                  "macro '" + stmt.name + "' takes no keyword argument '" + key + "'");
    }
    if (i < args.positional.size()) {
      throw Error(ErrorCode::invalid_argument,
                  "macro '" + stmt.name + "' got multiple values for argument '" + key + "'");
    }
    local->vars[key] = value;
  }
  for (size_t i = 0; i < stmt.params.size(); ++i) {
    if (local->vars.count(stmt.params[i])) continue;
    local->vars[stmt.params[i]] =
        stmt.defaults[i] ? eval(*stmt.defaults[i], *local)
                         : Value::undefined("parameter '" + stmt.params[i] + "' was not provided");
  }
  ++call_depth_;
  int saved_line = line_;
  std::string text;
  try {
    text = capture(stmt.body, *local);
  } catch (...) {
    --call_depth_;
    throw;
  }
  --call_depth_;
  line_ = saved_line;
  release_frame(std::move(local));
  return Value(std::move(text));
}

// ---- expressions ----

Value Interpreter::call(const Value& callee, Arguments& args) {
  if (callee.kind() == Kind::function) return callee.function().call(*this, args);
  if (callee.is_undefined()) throw_undefined(callee);
  throw Error(ErrorCode::invalid_argument, "'" + type_name(callee) + "' object is not callable");
}

Value Interpreter::apply_filter(std::string_view name, const Value& subject, Arguments& args) {
  FilterFn fn = find_filter(name);
  if (!fn) throw Error(ErrorCode::unsupported, "the filter '" + std::string(name) + "'");
  return fn(*this, subject, args);
}

bool Interpreter::apply_test(std::string_view name, const Value& subject, Arguments& args) {
  TestFn fn = find_test(name);
  if (!fn) throw Error(ErrorCode::invalid_argument, "no test named '" + std::string(name) + "'");
  return fn(*this, subject, args);
}

Arguments Interpreter::eval_arguments(const Expr& expr, Frame& frame, size_t skip) {
  Arguments args;
  for (size_t i = skip; i < expr.items.size(); ++i) {
    args.positional.push_back(eval(*expr.items[i], frame));
  }
  for (const auto& [key, value] : expr.kwargs) args.keyword.emplace_back(key, eval(*value, frame));
  return args;
}

Value Interpreter::eval_filter_chain(const Expr& expr, Frame& frame, const Value* subject) {
  Value input = expr.a ? eval_filter_chain(*expr.a, frame, subject) : *subject;
  Arguments args = eval_arguments(expr, frame);
  return apply_filter(expr.name, input, args);
}

Value Interpreter::eval_compare(const Expr& expr, Frame& frame) {
  Value left = eval(*expr.a, frame);
  for (size_t i = 0; i < expr.ops.size(); ++i) {
    Value right = eval(*expr.items[i], frame);
    const std::string& op = expr.ops[i];
    bool ok;
    if (op == "==") {
      ok = equals(left, right);
    } else if (op == "!=") {
      ok = !equals(left, right);
    } else if (op == "<") {
      ok = less_than(left, right);
    } else if (op == ">") {
      ok = less_than(right, left);
    } else if (op == "<=") {
      ok = equals(left, right) ? (less_than(left, right), true) : less_than(left, right);
    } else if (op == ">=") {
      ok = equals(left, right) ? (less_than(right, left), true) : less_than(right, left);
    } else if (op == "in") {
      ok = contains(right, left);
    } else {
      ok = !contains(right, left);
    }
    if (!ok) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Interpreter::eval(const Expr& expr, Frame& frame) {
  charge(1);
  switch (expr.kind) {
    case ExprKind::literal:
      return expr.value;
    case ExprKind::name:
      return lookup(expr.name, frame);
    case ExprKind::list:
    case ExprKind::tuple: {
      std::vector<Value> items;
      items.reserve(expr.items.size());
      for (const auto& item : expr.items) items.push_back(eval(*item, frame));
      return Value::list(std::move(items), expr.kind == ExprKind::tuple);
    }
    case ExprKind::dict: {
      Dict dict;
      for (size_t i = 0; i + 1 < expr.items.size(); i += 2) {
        Value key = eval(*expr.items[i], frame);
        if (!key.is_string()) {
          throw Error(ErrorCode::unsupported,
                      "dict literal keys other than strings (" + type_name(key) + ")");
        }
        dict.set(key.str(), eval(*expr.items[i + 1], frame));
      }
      return Value::dict(std::move(dict));
    }
    case ExprKind::getattr:
      return get_attribute(eval(*expr.a, frame), expr.name);
    case ExprKind::getitem: {
      Value obj = eval(*expr.a, frame);
      if (expr.b->kind == ExprKind::slice) {
        if (obj.is_undefined()) throw_undefined(obj);
        const auto& parts = expr.b->items;
        auto part = [&](size_t i) { return parts[i] ? eval(*parts[i], frame) : Value::none(); };
        Value start = part(0);
        Value stop = part(1);
        Value step = part(2);
        return slice(obj, start, stop, step);
      }
      return get_item(obj, eval(*expr.b, frame));
    }
    case ExprKind::slice:
      throw Error(ErrorCode::unsupported, "a slice outside of a subscript");
    case ExprKind::call: {
      Value callee = eval(*expr.a, frame);
      Arguments args = eval_arguments(expr, frame);
      Value result = call(callee, args);
      line_ = expr.line;
      return result;
    }
    case ExprKind::filter: {
      Value subject = eval(*expr.a, frame);
      Arguments args = eval_arguments(expr, frame);
      return apply_filter(expr.name, subject, args);
    }
    case ExprKind::test: {
      Value subject = eval(*expr.a, frame);
      Arguments args = eval_arguments(expr, frame);
      bool result = apply_test(expr.name, subject, args);
      return Value(expr.negated ? !result : result);
    }
    case ExprKind::negate:
    case ExprKind::plus: {
      Value v = eval(*expr.a, frame);
      if (v.is_undefined()) throw_undefined(v);
      const char* op = expr.kind == ExprKind::negate ? "-" : "+";
      if (!v.is_number()) {
        throw Error(ErrorCode::invalid_argument,
                    std::string("bad operand type for unary ") + op + ": '" + type_name(v) + "'");
      }
      if (expr.kind == ExprKind::plus) {
        return v.kind() == Kind::floating ? v : Value(v.integer());
      }
      if (v.kind() == Kind::floating) return Value(-v.floating());
      if (v.integer() == INT64_MIN) {
        throw Error(ErrorCode::unsupported, "integer overflow: values beyond 64 bits");
      }
      return Value(-v.integer());
    }
    case ExprKind::logical_not:
      return Value(!truthy(eval(*expr.a, frame)));
    case ExprKind::logical_and: {
      Value left = eval(*expr.a, frame);
      return truthy(left) ? eval(*expr.b, frame) : left;
    }
    case ExprKind::logical_or: {
      Value left = eval(*expr.a, frame);
      return truthy(left) ? left : eval(*expr.b, frame);
    }
    case ExprKind::binary: {
      Value left = eval(*expr.a, frame);  // Python evaluates left to right
      Value right = eval(*expr.b, frame);
      return binary_operation(expr.name, left, right, limits_.sizes);
    }
    case ExprKind::compare:
      return eval_compare(expr, frame);
    case ExprKind::condition:
      if (truthy(eval(*expr.b, frame))) return eval(*expr.a, frame);
      if (expr.c) return eval(*expr.c, frame);
      return Value::undefined("the inline if-expression evaluated to false and has no else");
    case ExprKind::concat: {
      std::string out;
      for (const auto& item : expr.items) {
        out += to_str(eval(*item, frame));
        if (out.size() > limits_.sizes.max_string_bytes) {
          throw Error(ErrorCode::invalid_argument, "template builds a string beyond the limit");
        }
      }
      charge(out.size() / 64);
      return Value(std::move(out));
    }
  }
  return Value();
}

}  // namespace inference::chat::jinja
