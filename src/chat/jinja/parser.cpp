#include "chat/jinja/parser.hpp"

#include <algorithm>
#include <initializer_list>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/lexer.hpp"
#include "inference/error.hpp"

namespace inference::chat::jinja {
namespace {

// Deep enough for any real template, shallow enough for the stack of a sanitizer build.
constexpr int kMaxNesting = 128;
constexpr int kMaxExprDepth = 200;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Program run() {
    Program program;
    std::string end = parse_body(program.body, {});
    if (!end.empty()) fail("unexpected '" + end + "'");
    return program;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(size_t n = 1) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().type == TokenType::op && cur().text == op; }
  bool is_name(std::string_view name) const {
    return cur().type == TokenType::name && cur().text == name;
  }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::invalid_argument,
                "template syntax error at line " + std::to_string(cur().line) + ": " + what);
  }
  [[noreturn]] void unsupported(const std::string& what) const {
    throw Error(ErrorCode::unsupported,
                "template line " + std::to_string(cur().line) + ": " + what + " is not supported");
  }

  std::string describe(const Token& t) const {
    switch (t.type) {
      case TokenType::eof:
        return "end of template";
      case TokenType::block_end:
        return "end of statement block";
      case TokenType::variable_end:
        return "end of print statement";
      case TokenType::name:
      case TokenType::op:
        return "'" + t.text + "'";
      case TokenType::string:
        return "string";
      default:
        return "token";
    }
  }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected '" + std::string(op) + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != TokenType::name) fail("expected a name, got " + describe(cur()));
    std::string name = cur().text;
    next();
    return name;
  }
  void expect_block_end() {
    if (cur().type != TokenType::block_end) {
      fail("expected end of statement block, got " + describe(cur()));
    }
    next();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.fail("template nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  // Records the subtree height and bounds it: chains like 1+1+1+… are built iteratively here
  // but evaluated (and destroyed) recursively.
  ExprPtr finish(ExprPtr e) {
    int d = 0;
    auto see = [&d](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    see(e->a);
    see(e->b);
    see(e->c);
    for (const auto& item : e->items) see(item);
    for (const auto& kw : e->kwargs) see(kw.second);
    e->depth = d + 1;
    if (e->depth > kMaxExprDepth) fail("expression nested too deeply");
    return e;
  }

  ExprPtr node(ExprKind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = cur().line;
    return e;
  }

  // ---- statements ----

  // Parses statements into `body` until a block tag named in `ends` (returned, the name token
  // consumed) or the end of the template ("" returned).
  std::string parse_body(Body& body, std::initializer_list<std::string_view> ends) {
    DepthGuard guard(*this);
    while (true) {
      const Token& t = cur();
      switch (t.type) {
        case TokenType::eof:
          return "";
        case TokenType::data: {
          auto s = std::make_unique<Stmt>();
          s->kind = StmtKind::text;
          s->line = t.line;
          s->text = t.text;
          body.push_back(std::move(s));
          next();
          break;
        }
        case TokenType::variable_begin: {
          next();
          auto s = std::make_unique<Stmt>();
          s->kind = StmtKind::output;
          s->line = cur().line;
          s->expr = parse_tuple(true, false);
          if (cur().type != TokenType::variable_end) {
            fail("expected end of print statement, got " + describe(cur()));
          }
          next();
          body.push_back(std::move(s));
          break;
        }
        case TokenType::block_begin: {
          next();
          if (cur().type != TokenType::name) fail("tag name expected");
          std::string tag = cur().text;
          if (std::find(ends.begin(), ends.end(), tag) != ends.end()) {
            next();
            return tag;
          }
          body.push_back(parse_statement());
          break;
        }
        default:
          fail("unexpected " + describe(t));
      }
    }
  }

  // Parses the body of a block that must end with one of `ends`.
  std::string parse_block(Body& body, std::initializer_list<std::string_view> ends,
                          std::string_view tag) {
    int line = cur().line;
    std::string end = parse_body(body, ends);
    if (end.empty()) {
      throw Error(ErrorCode::invalid_argument,
                  "template syntax error: unexpected end of template, the '" + std::string(tag) +
                      "' block opened at line " + std::to_string(line) + " is not closed");
    }
    return end;
  }

  StmtPtr parse_statement() {
    auto s = std::make_unique<Stmt>();
    s->line = cur().line;
    std::string tag = cur().text;
    next();
    if (tag == "if") {
      parse_if(*s);
    } else if (tag == "for") {
      parse_for(*s);
    } else if (tag == "set") {
      parse_set(*s);
    } else if (tag == "macro") {
      parse_macro(*s);
    } else if (tag == "filter") {
      s->kind = StmtKind::filter_block;
      s->expr = parse_filter_chain(nullptr);
      expect_block_end();
      parse_block(s->body, {"endfilter"}, "filter");
      expect_block_end();
    } else if (tag == "with") {
      s->kind = StmtKind::with_block;
      while (cur().type != TokenType::block_end) {
        if (!s->assignments.empty()) expect_op(",");
        std::string name = expect_name();
        expect_op("=");
        s->assignments.emplace_back(name, parse_expression(true));
      }
      expect_block_end();
      parse_block(s->body, {"endwith"}, "with");
      expect_block_end();
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail("'" + tag + "' outside of a for loop");
      s->kind = tag == "break" ? StmtKind::loop_break : StmtKind::loop_continue;
      expect_block_end();
    } else if (tag == "generation") {
      s->kind = StmtKind::generation;
      expect_block_end();
      parse_block(s->body, {"endgeneration"}, "generation");
      expect_block_end();
    } else if (tag == "include" || tag == "import" || tag == "from" || tag == "extends" ||
               tag == "block" || tag == "call" || tag == "autoescape" || tag == "raw") {
      unsupported("the '" + tag + "' tag");
    } else {
      fail("encountered unknown tag '" + tag + "'");
    }
    return s;
  }

  void parse_if(Stmt& s) {
    s.kind = StmtKind::if_chain;
    while (true) {
      ExprPtr test = parse_tuple(false, false);
      expect_block_end();
      Body body;
      std::string end = parse_block(body, {"elif", "else", "endif"}, "if");
      s.branches.emplace_back(std::move(test), std::move(body));
      if (end == "elif") continue;
      if (end == "else") {
        expect_block_end();
        parse_block(s.else_body, {"endif"}, "if");
      }
      expect_block_end();
      return;
    }
  }

  void parse_for(Stmt& s) {
    s.kind = StmtKind::for_loop;
    s.target = parse_assign_target(false);
    if (!skip_name("in")) fail("expected 'in' in for loop");
    s.expr = parse_tuple(false, false);
    if (skip_name("if")) s.condition = parse_expression(true);
    if (is_name("recursive")) unsupported("recursive for loops");
    expect_block_end();
    ++loop_depth_;
    std::string end = parse_block(s.body, {"endfor", "else"}, "for");
    --loop_depth_;
    if (end == "else") {
      expect_block_end();
      parse_block(s.else_body, {"endfor"}, "for");
    }
    expect_block_end();
  }

  void parse_set(Stmt& s) {
    s.target = parse_assign_target(true);
    if (skip_op("=")) {
      s.kind = StmtKind::set;
      s.expr = parse_tuple(true, false);
      expect_block_end();
      return;
    }
    if (s.target.unpack) fail("a block set needs a single target");
    s.kind = StmtKind::set_block;
    if (is_op("|")) s.expr = parse_filter_chain(nullptr);
    expect_block_end();
    parse_block(s.body, {"endset"}, "set");
    expect_block_end();
  }

  void parse_macro(Stmt& s) {
    s.kind = StmtKind::macro;
    s.name = expect_name();
    expect_op("(");
    while (!skip_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (skip_op(")")) break;
      std::string param = expect_name();
      if (std::find(s.params.begin(), s.params.end(), param) != s.params.end()) {
        fail("duplicate macro parameter '" + param + "'");
      }
      s.params.push_back(param);
      if (skip_op("=")) {
        s.defaults.push_back(parse_expression(true));
      } else {
        if (!s.defaults.empty() && s.defaults.back()) fail("non-default argument follows default");
        s.defaults.push_back(nullptr);
      }
    }
    expect_block_end();
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    ++macro_depth_;
    parse_block(s.body, {"endmacro"}, "macro");
    --macro_depth_;
    loop_depth_ = saved_loop_depth;
    if (cur().type == TokenType::name && cur().text == s.name) next();
    expect_block_end();
  }

  Target parse_assign_target(bool allow_namespace) {
    Target target;
    if (allow_namespace && cur().type == TokenType::name && peek().type == TokenType::op &&
        peek().text == ".") {
      target.names.push_back(expect_name());
      next();
      target.attribute = expect_name();
      return target;
    }
    bool parens = skip_op("(");
    do {
      if (parens && is_op(")")) break;
      std::string name = expect_name();
      if (name == "true" || name == "false" || name == "none" || name == "True" ||
          name == "False" || name == "None") {
        fail("cannot assign to '" + name + "'");
      }
      target.names.push_back(name);
      if (is_op(",")) target.unpack = true;
    } while (skip_op(","));
    if (parens) {
      expect_op(")");
      target.unpack = true;
    }
    return target;
  }

  // `| f(args) | g …` applied to `subject` (null for block filters).
  ExprPtr parse_filter_chain(ExprPtr subject) {
    if (!subject) {
      // {% filter f %} starts without a pipe; {% set x | f %} with one.
      skip_op("|");
      subject = parse_filter(nullptr);
    }
    while (skip_op("|")) subject = parse_filter(std::move(subject));
    return subject;
  }

  // ---- expressions (jinja2 precedence) ----

  bool is_tuple_end() const {
    return cur().type == TokenType::variable_end || cur().type == TokenType::block_end ||
           cur().type == TokenType::eof || is_op(")");
  }

  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens) {
    auto tuple = node(ExprKind::tuple);
    bool is_tuple = false;
    while (true) {
      if (!tuple->items.empty()) expect_op(",");
      if (is_tuple_end()) break;
      tuple->items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!tuple->items.empty()) return std::move(tuple->items[0]);
      if (!explicit_parens) fail("expected an expression, got " + describe(cur()));
    }
    return finish(std::move(tuple));
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    ExprPtr expr = parse_or();
    while (skip_name("if")) {
      auto cond = node(ExprKind::condition);
      cond->b = parse_or();
      if (skip_name("else")) cond->c = parse_condexpr();
      cond->a = std::move(expr);
      expr = finish(std::move(cond));
    }
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (skip_name("or")) {
      auto e = node(ExprKind::logical_or);
      e->a = std::move(left);
      e->b = parse_and();
      left = finish(std::move(e));
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (skip_name("and")) {
      auto e = node(ExprKind::logical_and);
      e->a = std::move(left);
      e->b = parse_not();
      left = finish(std::move(e));
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto e = node(ExprKind::logical_not);
      next();
      e->a = parse_not();
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == TokenType::op &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
           cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == TokenType::name && peek().text == "in") {
        op = "not in";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::compare);
        cmp->a = std::move(first);
      }
      cmp->ops.push_back(op);
      cmp->items.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(first);
  }

  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right) {
    auto e = node(ExprKind::binary);
    e->name = std::move(op);
    e->a = std::move(left);
    e->b = std::move(right);
    return finish(std::move(e));
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      next();
      left = binary(op, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = node(ExprKind::concat);
    e->items.push_back(std::move(first));
    while (skip_op("~")) e->items.push_back(parse_math2());
    return finish(std::move(e));
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      next();
      left = binary(op, std::move(left), parse_pow());
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) left = binary("**", std::move(left), parse_unary(true));
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = node(is_op("-") ? ExprKind::negate : ExprKind::plus);
      next();
      e->a = parse_unary(false);
      e = finish(std::move(e));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    switch (t.type) {
      case TokenType::name: {
        auto e = node(ExprKind::literal);
        if (t.text == "true" || t.text == "True") {
          e->value = Value(true);
        } else if (t.text == "false" || t.text == "False") {
          e->value = Value(false);
        } else if (t.text == "none" || t.text == "None") {
          e->value = Value::none();
        } else {
          if (macro_depth_ > 0 &&
              (t.text == "varargs" || t.text == "kwargs" || t.text == "caller")) {
            unsupported("the macro variable '" + t.text + "'");
          }
          e->kind = ExprKind::name;
          e->name = t.text;
        }
        next();
        return e;
      }
      case TokenType::string: {
        auto e = node(ExprKind::literal);
        std::string s;
        while (cur().type == TokenType::string) {
          s += cur().text;
          next();
        }
        e->value = Value(std::move(s));
        return e;
      }
      case TokenType::integer: {
        auto e = node(ExprKind::literal);
        e->value = Value(t.integer);
        next();
        return e;
      }
      case TokenType::floating: {
        auto e = node(ExprKind::literal);
        e->value = Value(t.floating);
        next();
        return e;
      }
      case TokenType::op:
        if (t.text == "(") {
          next();
          ExprPtr e = parse_tuple(true, true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          auto e = node(ExprKind::list);
          next();
          while (!skip_op("]")) {
            if (!e->items.empty()) expect_op(",");
            if (skip_op("]")) break;
            e->items.push_back(parse_expression(true));
          }
          return finish(std::move(e));
        }
        if (t.text == "{") {
          auto e = node(ExprKind::dict);
          next();
          while (!skip_op("}")) {
            if (!e->items.empty()) expect_op(",");
            if (skip_op("}")) break;
            e->items.push_back(parse_expression(true));
            expect_op(":");
            e->items.push_back(parse_expression(true));
          }
          return finish(std::move(e));
        }
        break;
      default:
        break;
    }
    fail("unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        next();
        if (cur().type == TokenType::name) {
          auto g = node(ExprKind::getattr);
          g->name = cur().text;
          g->a = std::move(e);
          next();
          e = finish(std::move(g));
        } else if (cur().type == TokenType::integer) {
          auto g = node(ExprKind::getitem);
          auto key = node(ExprKind::literal);
          key->value = Value(cur().integer);
          g->a = std::move(e);
          g->b = std::move(key);
          next();
          e = finish(std::move(g));
        } else {
          fail("expected a name or number after '.'");
        }
      } else if (is_op("[")) {
        next();
        auto g = node(ExprKind::getitem);
        g->a = std::move(e);
        std::vector<ExprPtr> subs;
        while (!is_op("]")) {
          if (!subs.empty()) expect_op(",");
          if (is_op("]")) break;
          subs.push_back(parse_subscribed());
        }
        expect_op("]");
        if (subs.empty()) fail("expected a subscript");
        if (subs.size() == 1) {
          g->b = std::move(subs[0]);
        } else {
          auto t = node(ExprKind::tuple);
          t->items = std::move(subs);
          g->b = finish(std::move(t));
        }
        e = finish(std::move(g));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscribed() {
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) return start;
    }
    auto slice = node(ExprKind::slice);
    next();  // ':'
    slice->items.push_back(std::move(start));
    if (!is_op("]") && !is_op(",") && !is_op(":")) {
      slice->items.push_back(parse_expression(true));
    } else {
      slice->items.push_back(nullptr);
    }
    if (skip_op(":") && !is_op("]") && !is_op(",")) {
      slice->items.push_back(parse_expression(true));
    } else {
      slice->items.push_back(nullptr);
    }
    return finish(std::move(slice));
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!skip_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (skip_op(")")) break;
      if (is_op("*") || is_op("**")) unsupported("*args / **kwargs in calls");
      if (cur().type == TokenType::name && peek().type == TokenType::op && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        for (const auto& kw : e.kwargs) {
          if (kw.first == key) fail("keyword argument '" + key + "' repeated");
        }
        e.kwargs.emplace_back(key, parse_expression(true));
      } else {
        if (!e.kwargs.empty()) fail("positional argument follows keyword argument");
        e.items.push_back(parse_expression(true));
      }
    }
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto call = node(ExprKind::call);
    call->a = std::move(callee);
    parse_call_args(*call);
    return finish(std::move(call));
  }

  ExprPtr parse_filter(ExprPtr subject) {
    auto f = node(ExprKind::filter);
    f->name = expect_name();
    while (skip_op(".")) f->name += "." + expect_name();
    if (!find_filter(f->name)) {
      if (is_jinja_filter(f->name)) unsupported("the filter '" + f->name + "'");
      fail("no filter named '" + f->name + "'");
    }
    f->a = std::move(subject);
    if (is_op("(")) parse_call_args(*f);
    return finish(std::move(f));
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        next();
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        next();
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_test(ExprPtr subject) {
    auto t = node(ExprKind::test);
    t->negated = skip_name("not");
    t->name = expect_name();
    while (skip_op(".")) t->name += "." + expect_name();
    if (!find_test(t->name)) {
      if (is_jinja_test(t->name)) unsupported("the test '" + t->name + "'");
      fail("no test named '" + t->name + "'");
    }
    t->a = std::move(subject);
    if (is_op("(")) {
      parse_call_args(*t);
    } else if ((cur().type == TokenType::name || cur().type == TokenType::string ||
                cur().type == TokenType::integer || cur().type == TokenType::floating ||
                is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("you cannot chain multiple tests with is");
      t->items.push_back(parse_postfix(parse_primary()));
    }
    return finish(std::move(t));
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  int macro_depth_ = 0;
};

}  // namespace

Program parse(std::string_view source) {
  return Parser(tokenize(source)).run();
}

}  // namespace inference::chat::jinja
