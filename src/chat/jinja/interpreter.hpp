// chat/jinja/interpreter.hpp — renders a parsed Program against a set of variables with
// jinja2's runtime semantics: scoping (loop bodies and macros get their own scope; namespace()
// carries values out), loop variables, macros, loop controls, filters and tests. One
// Interpreter renders once. Work, output size and call depth are bounded so a hostile template
// fails cleanly instead of hanging or exhausting memory.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/jinja/ast.hpp"
#include "chat/jinja/operations.hpp"
#include "inference/error.hpp"

namespace inference::chat::jinja {

struct Limits {
  SizeLimits sizes;                 ///< largest string (incl. the output) and list
  uint64_t max_steps = 20'000'000;  ///< evaluated nodes + loop iterations + copied items
  int max_call_depth = 64;          ///< nested macro calls
};

/// The exception of the template's own raise_exception(msg): what() is exactly msg.
class TemplateRaise : public Error {
 public:
  explicit TemplateRaise(const std::string& message)
      : Error(ErrorCode::invalid_argument, message) {}
};

class Interpreter {
 public:
  /// `clock` gives the local time for strftime_now().
  Interpreter(const Program& program, Limits limits, std::function<std::tm()> clock);

  /// Renders with `variables` as the template's globals. Errors other than TemplateRaise are
  /// re-thrown with the template line prefixed.
  std::string render(const Dict& variables);

  // ---- services for filters, tests and globals ----
  Value call(const Value& callee, Arguments& args);
  Value apply_filter(std::string_view name, const Value& subject, Arguments& args);
  bool apply_test(std::string_view name, const Value& subject, Arguments& args);
  /// Counts `units` of work against the step budget.
  void charge(uint64_t units);
  const Limits& limits() const noexcept { return limits_; }
  std::tm now() const { return clock_(); }
  /// Registers a namespace created by this render. A namespace may hold itself (Python's
  /// garbage collector copes; shared pointers do not), so their contents are dropped when the
  /// render ends.
  void adopt_namespace(const Value& ns) { namespaces_.push_back(ns); }

 private:
  struct Frame {
    std::unordered_map<std::string, Value> vars;
    Frame* parent = nullptr;
    bool pinned = false;  // a macro defined here refers to it
  };
  enum class Flow { normal, loop_break, loop_continue };

  Flow exec_body(const Body& body, Frame& frame);
  Flow exec(const Stmt& stmt, Frame& frame);
  Flow exec_for(const Stmt& stmt, Frame& frame);
  void exec_set(const Stmt& stmt, Frame& frame, Value value);
  void define_macro(const Stmt& stmt, Frame& frame);
  Value call_macro(const Stmt& stmt, Frame* scope, Arguments& args);
  std::string capture(const Body& body, Frame& frame);

  Value eval(const Expr& expr, Frame& frame);
  Value eval_filter_chain(const Expr& expr, Frame& frame, const Value* subject);
  Value eval_compare(const Expr& expr, Frame& frame);
  Arguments eval_arguments(const Expr& expr, Frame& frame, size_t skip = 0);
  Value lookup(const std::string& name, Frame& frame) const;
  std::unique_ptr<Frame> child_frame(Frame& parent);
  void release_frame(std::unique_ptr<Frame> frame);
  void emit(std::string_view text);

  const Program& program_;
  Limits limits_;
  std::function<std::tm()> clock_;
  std::string* out_ = nullptr;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  int line_ = 0;
  Dict globals_;
  // Frames a macro was defined in stay alive until the render ends (macros refer to them).
  std::vector<std::unique_ptr<Frame>> kept_frames_;
  std::vector<Value> namespaces_;
};

}  // namespace inference::chat::jinja
