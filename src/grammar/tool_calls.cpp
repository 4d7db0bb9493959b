#include "grammar/tool_calls.hpp"

#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "grammar/gbnf_text.hpp"
#include "grammar/schema_compiler.hpp"
#include "inference/error.hpp"

namespace inference::grammar {
namespace {

using Json = nlohmann::ordered_json;
constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";

std::string_view marker(ToolCallFormat f) {
  switch (f) {
    case ToolCallFormat::hermes:
      return "<tool_call>";
    case ToolCallFormat::mistral:
      return "[TOOL_CALLS]";
    default:
      return "";
  }
}

std::string_view arguments_key(ToolCallFormat f) {
  return f == ToolCallFormat::llama3 ? "parameters" : "arguments";
}

// ---- grammar ----

// Rules matching any text that does not contain `literal` (a KMP automaton over code points:
// X_i = "i characters of the literal matched so far"; reaching the whole literal is forbidden).
std::string text_without(SchemaCompiler& c, std::string_view literal, const std::string& hint) {
  const size_t n = literal.size();
  std::vector<size_t> fail(n + 1, 0);
  for (size_t i = 1, k = 0; i < n; ++i) {
    while (k > 0 && literal[i] != literal[k]) k = fail[k];
    if (literal[i] == literal[k]) ++k;
    fail[i + 1] = k;
  }
  auto delta = [&](size_t state, char ch) {
    while (state > 0 && (state == n || literal[state] != ch)) state = fail[state];
    return literal[state] == ch ? state + 1 : 0;
  };
  std::set<char> chars(literal.begin(), literal.end());
  std::vector<CodepointRange> others;
  for (char ch : chars)
    others.emplace_back(static_cast<unsigned char>(ch), static_cast<unsigned char>(ch));
  const std::string other_class = gbnf_class(normalize_ranges(others, true));
  std::vector<std::string> names(n);
  for (size_t i = 0; i < n; ++i) names[i] = c.add_rule(hint + "-s" + std::to_string(i), "\"\"");
  // Bodies are filled after all names exist (rules refer to each other).
  for (size_t i = 0; i < n; ++i) {
    std::string body = "\"\" | " + other_class + " " + names[0];
    for (char ch : chars) {
      const size_t next = delta(i, ch);
      if (next == n) continue;
      body += " | " + gbnf_literal(std::string(1, ch)) + " " + names[next];
    }
    c.set_body(names[i], body);
  }
  return names[0];
}

}  // namespace

std::string_view to_string(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::llama3:
      return "llama3";
    case ToolCallFormat::hermes:
      return "hermes";
    case ToolCallFormat::mistral:
      return "mistral";
    case ToolCallFormat::generic:
      return "generic";
  }
  return "generic";
}

ToolCallFormat tool_call_format_for_template(std::string_view t) {
  if (t.find("<tool_call>") != std::string_view::npos) return ToolCallFormat::hermes;
  if (t.find("[TOOL_CALLS]") != std::string_view::npos) return ToolCallFormat::mistral;
  if (t.find("<|start_header_id|>") != std::string_view::npos &&
      (t.find("\"parameters\"") != std::string_view::npos ||
       t.find("ipython") != std::string_view::npos))
    return ToolCallFormat::llama3;
  return ToolCallFormat::generic;
}

std::string new_tool_call_id(ToolCallFormat format) {
  static constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const bool mistral = format == ToolCallFormat::mistral;
  std::string id = mistral ? "" : "call_";
  for (int i = 0; i < (mistral ? 9 : 24); ++i) id += kAlnum[rng() % (sizeof(kAlnum) - 1)];
  return id;
}

std::string tool_call_gbnf(ToolCallFormat format, const std::vector<ToolSpec>& tools,
                           const ToolChoice& choice, bool parallel_calls) {
  if (choice.mode == ToolChoice::Mode::none) return "";
  if (tools.empty()) throw Error(ErrorCode::invalid_argument, "tools: the list is empty");
  SchemaCompiler c;
  c.whitespace();
  std::vector<std::string> calls;
  std::set<std::string> seen;
  for (const ToolSpec& tool : tools) {
    if (tool.name.empty()) throw Error(ErrorCode::invalid_argument, "tools: a tool has no name");
    if (!seen.insert(tool.name).second)
      throw Error(ErrorCode::invalid_argument, "tools: '" + tool.name + "' is listed twice");
    if (choice.mode == ToolChoice::Mode::named && tool.name != choice.name) continue;
    Json schema = Json{{"type", "object"}};
    if (!tool.parameters.empty()) {
      try {
        schema = Json::parse(tool.parameters);
      } catch (const nlohmann::json::exception&) {
        throw Error(ErrorCode::invalid_argument,
                    "tools: the parameters of '" + tool.name + "' are not valid JSON");
      }
    }
    std::string params;
    try {
      params = c.add_document(schema, "args-" + tool.name);
    } catch (const Error& e) {
      throw Error(e.code(), "tools: parameters of '" + tool.name + "': " + e.what());
    }
    std::string body = "\"{\" ws \"\\\"name\\\"\" ws \":\" ws " +
                       gbnf_literal(Json(tool.name).dump()) + " ws \",\" ws " +
                       gbnf_literal("\"" + std::string(arguments_key(format)) + "\"") +
                       " ws \":\" ws " + params;
    if (format == ToolCallFormat::mistral)
      body += " (ws \",\" ws \"\\\"id\\\"\" ws \":\" ws \"\\\"\" [a-zA-Z0-9]{9} \"\\\"\")?";
    body += " ws \"}\"";
    calls.push_back(c.add_rule("call-" + tool.name, body));
  }
  if (calls.empty())
    throw Error(ErrorCode::invalid_argument,
                "tool_choice: no tool named '" + choice.name + "' in tools");
  const std::string string = c.any_string();
  std::string any_call;
  for (const std::string& call : calls) any_call += (any_call.empty() ? "" : " | ") + call;
  const std::string call = c.add_rule("call", any_call);
  const bool many = parallel_calls;
  const bool automatic = choice.mode == ToolChoice::Mode::automatic;
  std::string answer;
  switch (format) {
    case ToolCallFormat::llama3: {
      // One call: the whole reply is the JSON object. Text may not start with '{' (that would
      // be a call), so the two never overlap.
      answer = automatic ? "(" + call + " | [^{] [\\x00-\\U0010FFFF]* | \"\")" : call;
      break;
    }
    case ToolCallFormat::hermes: {
      const std::string block =
          c.add_rule("block", "\"<tool_call>\\n\" " + call + " \"\\n</tool_call>\"");
      const std::string blocks = many ? block + " (\"\\n\" " + block + ")*" : block;
      answer = automatic ? text_without(c, "<tool_call>", "text") + " (" + blocks + ")?" : blocks;
      break;
    }
    case ToolCallFormat::mistral: {
      const std::string list = "\"[TOOL_CALLS]\" \" \"? \"[\" " + call +
                               (many ? " (\",\" ws " + call + ")*" : "") + " \"]\"";
      answer = automatic ? text_without(c, "[TOOL_CALLS]", "text") + " (" + list + ")?" : list;
      break;
    }
    case ToolCallFormat::generic: {
      const std::string list = "\"{\" ws \"\\\"tool_calls\\\"\" ws \":\" ws \"[\" ws " + call +
                               (many ? " (ws \",\" ws " + call + ")*" : "") + " ws \"]\" ws \"}\"";
      answer = automatic ? "(" + list + " | \"{\" ws \"\\\"response\\\"\" ws \":\" ws " + string +
                               " ws \"}\")"
                         : list;
      break;
    }
  }
  // Reasoning models may think first; the block is returned apart from the answer.
  const std::string think =
      "(\"<think>\" " + text_without(c, "</think>", "thought") + " \"</think>\" [ \\n]{0,4})?";
  return c.gbnf(think + " " + answer);
}

// ---- parsing ----

namespace {

size_t skip_ws(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i;
  return i;
}

// Length of the longest suffix of `t` that is a proper prefix of `m` (could still become m).
size_t partial_suffix(std::string_view t, std::string_view m) {
  for (size_t k = std::min(t.size(), m.size() - 1); k > 0; --k)
    if (t.substr(t.size() - k) == m.substr(0, k)) return k;
  return 0;
}

// End (one past) of the JSON value at i, or npos while it is incomplete.
size_t json_value_end(std::string_view t, size_t i, bool final) {
  if (i >= t.size()) return std::string_view::npos;
  const char c = t[i];
  if (c == '{' || c == '[' || c == '"') {
    int depth = 0;
    bool in_string = false, escape = false;
    for (size_t k = i; k < t.size(); ++k) {
      const char ch = t[k];
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (ch == '\\') {
          escape = true;
        } else if (ch == '"') {
          in_string = false;
          if (depth == 0) return k + 1;
        }
      } else if (ch == '"') {
        in_string = true;
      } else if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        if (--depth == 0) return k + 1;
      }
    }
    return std::string_view::npos;
  }
  size_t k = i;
  while (k < t.size() && std::string_view(",}] \n\r\t").find(t[k]) == std::string_view::npos) ++k;
  return k < t.size() || final ? k : std::string_view::npos;
}

struct CallView {
  std::string name;
  size_t args_begin = 0, args_end = 0;
  bool args_done = false;
};

struct Snapshot {
  size_t reasoning_begin = 0, reasoning_end = 0;
  std::string content;  // only ever grows as text is appended
  std::vector<CallView> calls;
  bool malformed = false;  // text where a call had to be
};

bool expect(std::string_view t, size_t& i, std::string_view what, bool& incomplete) {
  i = skip_ws(t, i);
  const size_t n = std::min(what.size(), t.size() - std::min(i, t.size()));
  if (t.substr(i, n) != what.substr(0, n)) return false;
  if (n < what.size()) {
    incomplete = true;
    return false;
  }
  i += what.size();
  return true;
}

// One call object at i. Returns the index after it, or npos (incomplete or malformed).
size_t parse_call(std::string_view t, size_t i, ToolCallFormat f, bool final, Snapshot& s) {
  bool incomplete = false;
  size_t k = i;
  if (!expect(t, k, "{", incomplete) || !expect(t, k, "\"name\"", incomplete) ||
      !expect(t, k, ":", incomplete)) {
    s.malformed = s.malformed || !incomplete;
    return std::string_view::npos;
  }
  k = skip_ws(t, k);
  const size_t name_end = json_value_end(t, k, final);
  if (name_end == std::string_view::npos || t[k] != '"') {
    s.malformed = s.malformed || (k < t.size() && t[k] != '"');
    return std::string_view::npos;
  }
  CallView call;
  try {
    call.name = Json::parse(t.substr(k, name_end - k)).get<std::string>();
  } catch (const nlohmann::json::exception&) {
    s.malformed = true;
    return std::string_view::npos;
  }
  k = name_end;
  const std::string key = "\"" + std::string(arguments_key(f)) + "\"";
  if (!expect(t, k, ",", incomplete) || !expect(t, k, key, incomplete) ||
      !expect(t, k, ":", incomplete)) {
    s.malformed = s.malformed || !incomplete;
    return std::string_view::npos;
  }
  k = skip_ws(t, k);
  if (k >= t.size()) return std::string_view::npos;
  call.args_begin = k;
  const size_t args_end = json_value_end(t, k, final);
  call.args_done = args_end != std::string_view::npos;
  call.args_end = call.args_done ? args_end : (t[k] == '{' || t[k] == '[' ? t.size() : k);
  s.calls.push_back(call);
  if (!call.args_done) return std::string_view::npos;
  const size_t end = json_value_end(t, i + (skip_ws(t, i) - i), final);
  return end;
}

Snapshot scan(ToolCallFormat f, std::string_view t, bool final, bool parse_calls) {
  Snapshot s;
  size_t pos = skip_ws(t, 0);
  const std::string_view head = t.substr(pos);
  if (head.substr(0, kThinkOpen.size()) == kThinkOpen) {
    s.reasoning_begin = pos + kThinkOpen.size();
    const size_t close = t.find(kThinkClose, s.reasoning_begin);
    if (close == std::string_view::npos) {
      s.reasoning_end = final ? t.size() : t.size() - partial_suffix(t, kThinkClose);
      s.reasoning_end = std::max(s.reasoning_end, s.reasoning_begin);
      return s;
    }
    s.reasoning_end = close;
    pos = skip_ws(t, close + kThinkClose.size());
  } else if (!final && kThinkOpen.substr(0, head.size()) == head) {
    return s;  // nothing yet, or the start of "<think>": undecided
  }
  const std::string_view body = t.substr(pos);
  if (!parse_calls) {
    s.content = std::string(body);
    return s;
  }
  switch (f) {
    case ToolCallFormat::llama3: {
      size_t q = skip_ws(t, pos);
      if (t.substr(q, 14) == "<|python_tag|>") q = skip_ws(t, q + 14);
      if (q < t.size() && t[q] == '{') {
        parse_call(t, q, f, final, s);
      } else if (q < t.size() || final) {
        s.content = std::string(body);
      }
      return s;
    }
    case ToolCallFormat::hermes:
    case ToolCallFormat::mistral: {
      const std::string_view m = marker(f);
      size_t at = t.find(m, pos);
      if (at == std::string_view::npos) {
        s.content = std::string(
            body.substr(0, final ? body.size() : body.size() - partial_suffix(body, m)));
        return s;
      }
      s.content = std::string(t.substr(pos, at - pos));
      if (f == ToolCallFormat::mistral) {
        size_t k = at + m.size();
        bool incomplete = false;
        if (!expect(t, k, "[", incomplete)) {
          s.malformed = !incomplete;
          return s;
        }
        for (;;) {
          const size_t end = parse_call(t, k, f, final, s);
          if (end == std::string_view::npos) return s;
          k = end;
          if (expect(t, k, ",", incomplete)) continue;
          return s;  // "]" or the end
        }
      }
      while (at != std::string_view::npos) {
        const size_t end = parse_call(t, at + m.size(), f, final, s);
        if (end == std::string_view::npos) return s;
        at = t.find(m, end);
      }
      return s;
    }
    case ToolCallFormat::generic: {
      size_t k = pos;
      bool incomplete = false;
      if (!expect(t, k, "{", incomplete)) {
        if (!incomplete && (k < t.size() || final)) s.content = std::string(body);
        return s;
      }
      size_t probe = k;
      if (expect(t, probe, "\"response\"", incomplete)) {
        if (final) {
          try {
            s.content = Json::parse(body).at("response").get<std::string>();
          } catch (const nlohmann::json::exception&) {
            s.content = std::string(body);
          }
        }
        return s;
      }
      if (!expect(t, k, "\"tool_calls\"", incomplete) || !expect(t, k, ":", incomplete) ||
          !expect(t, k, "[", incomplete)) {
        if (!incomplete) s.content = final ? std::string(body) : "";
        return s;
      }
      for (;;) {
        const size_t end = parse_call(t, k, f, final, s);
        if (end == std::string_view::npos) return s;
        k = end;
        if (!expect(t, k, ",", incomplete)) return s;
      }
    }
  }
  return s;
}

}  // namespace

ParsedToolOutput parse_tool_output(ToolCallFormat format, std::string_view text, bool parse_calls) {
  const Snapshot s = scan(format, text, true, parse_calls);
  ParsedToolOutput out;
  out.reasoning = std::string(text.substr(s.reasoning_begin, s.reasoning_end - s.reasoning_begin));
  out.content = s.content;
  for (const CallView& c : s.calls) {
    const std::string_view args = text.substr(c.args_begin, c.args_end - c.args_begin);
    if (!c.args_done || !Json::accept(args)) {
      // Not a usable call after all: the caller sees the text.
      return {std::string(text.substr(s.reasoning_end ? s.reasoning_end : 0)), out.reasoning, {}};
    }
    out.tool_calls.push_back({new_tool_call_id(format), c.name, std::string(args)});
  }
  if (s.malformed && out.tool_calls.empty() && out.content.empty()) out.content = std::string(text);
  return out;
}

ToolCallStreamParser::ToolCallStreamParser(ToolCallFormat format, bool parse_calls)
    : format_(format), parse_calls_(parse_calls) {}

std::vector<ToolStreamEvent> ToolCallStreamParser::push(std::string_view text) {
  if (finished_) return {};
  text_ += text;
  return update(false);
}

std::vector<ToolStreamEvent> ToolCallStreamParser::finish() {
  if (finished_) return {};
  auto events = update(true);
  finished_ = true;
  return events;
}

std::vector<ToolStreamEvent> ToolCallStreamParser::update(bool final) {
  const Snapshot s = scan(format_, text_, final, parse_calls_);
  std::vector<ToolStreamEvent> events;
  const size_t reasoning_len = s.reasoning_end - s.reasoning_begin;
  if (reasoning_len > reasoning_sent_) {
    events.push_back(
        {ToolStreamEvent::Kind::reasoning, 0,
         text_.substr(s.reasoning_begin + reasoning_sent_, reasoning_len - reasoning_sent_), "",
         ""});
    reasoning_sent_ = reasoning_len;
  }
  if (s.content.size() > content_sent_) {
    events.push_back({ToolStreamEvent::Kind::content, 0, s.content.substr(content_sent_), "", ""});
    content_sent_ = s.content.size();
  }
  for (size_t i = 0; i < s.calls.size(); ++i) {
    const CallView& c = s.calls[i];
    if (i >= ids_.size()) {
      ids_.push_back(new_tool_call_id(format_));
      args_sent_.push_back(0);
      events.push_back(
          {ToolStreamEvent::Kind::call_start, static_cast<int>(i), "", ids_[i], c.name});
    }
    const size_t len = c.args_end - c.args_begin;
    if (len > args_sent_[i]) {
      events.push_back({ToolStreamEvent::Kind::call_arguments, static_cast<int>(i),
                        text_.substr(c.args_begin + args_sent_[i], len - args_sent_[i]), "", ""});
      args_sent_[i] = len;
    }
  }
  return events;
}

}  // namespace inference::grammar
