// chat/jinja/ast.hpp — the parsed form of a template: expressions and statements, plain data
// the interpreter walks. Node kinds mirror jinja2's nodes for the subset we implement.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.hpp"

namespace inference::chat::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  literal,  ///< value
  name,     ///< name
  list,     ///< items
  tuple,    ///< items
  dict,     ///< items: key, value, key, value, …
  getattr,  ///< a.name
  getitem,  ///< a[b]
  slice,    ///< items: start, stop, step (each may be null)
  call,     ///< a(items…, kwargs…)
  filter,   ///< a | name(items…, kwargs…); a is null for {% filter %} blocks
  test,     ///< a is [not] name(items…)
  negate,   ///< -a
  plus,     ///< +a
  logical_not,
  logical_and,
  logical_or,
  binary,     ///< a <name> b with name one of + - * / // % **
  compare,    ///< a (ops[i] items[i])…
  condition,  ///< a if b else c (c may be null)
  concat,     ///< items joined with ~
};

struct Expr {
  ExprKind kind = ExprKind::literal;
  int line = 0;
  Value value;
  std::string name;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;
  int depth = 1;  ///< height of this subtree (bounded by the parser)
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
  text,          ///< literal text
  output,        ///< {{ expr }}
  if_chain,      ///< if / elif… / else
  for_loop,      ///< for target in expr [if condition] … [else …]
  set,           ///< set target = expr
  set_block,     ///< set target [| filters] … endset
  macro,         ///< macro name(params) … endmacro
  filter_block,  ///< filter f … endfilter
  with_block,    ///< with a = x, … endwith
  loop_break,
  loop_continue,
  generation,  ///< {% generation %} … {% endgeneration %}: body rendered unchanged
};

/// An assignment target: one name, several (tuple unpacking), or namespace.attribute.
struct Target {
  std::vector<std::string> names;
  bool unpack = false;
  std::string attribute;  ///< non-empty for `ns.attribute`; names[0] is the namespace
};

struct Stmt {
  StmtKind kind = StmtKind::text;
  int line = 0;
  std::string text;
  ExprPtr expr;       ///< output, for iterable, set value, filter chain (block set/filter)
  ExprPtr condition;  ///< for-loop filter
  std::vector<std::pair<ExprPtr, Body>> branches;  ///< if / elif
  Body body;
  Body else_body;
  Target target;
  std::string name;                 ///< macro name
  std::vector<std::string> params;  ///< macro parameters
  std::vector<ExprPtr> defaults;    ///< aligned with params; null when none
  std::vector<std::pair<std::string, ExprPtr>> assignments;  ///< with
};

/// A parsed template.
struct Program {
  Body body;
};

}  // namespace inference::chat::jinja
