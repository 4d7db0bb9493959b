// grammar/tool_calls.hpp — tool calling in each model family's native syntax: the grammar
// that constrains the assistant's output to text and/or calls of the given tools, and the
// parsers (whole text, and streaming) that turn that output back into inference::ToolCall.
//
//   llama3       Llama 3.1/3.2 JSON: {"name": "f", "parameters": {...}} (one call)
//   hermes       Qwen 2.5/3 and Hermes: <tool_call>\n{"name": "f", "arguments":
//   {...}}\n</tool_call> mistral      Mistral v0.3: [TOOL_CALLS] [{"name": "f", "arguments":
//   {...}}, ...] generic      models without a syntax (Gemma 3): {"tool_calls": [{"name": "f",
//   "arguments":
//                {...}}]} or, with tool_choice auto, {"response": "text"}
//
// A leading <think>…</think> block (Qwen3, DeepSeek-R1 distills) is allowed before the answer
// and is returned separately as reasoning, never inside content or arguments. Every call's
// `arguments` is the arguments object serialised as a JSON string; every id is unique.
//
// Server use (OpenAI /v1/chat/completions, Anthropic /v1/messages):
//   1. format = tool_call_format_for_template(model chat template source)
//   2. gbnf = tool_call_gbnf(format, tools, choice, parallel) → GenerateConfig::constraint
//      (Kind::gbnf; empty string for tool_choice none: no constraint)
//   3. stream: ToolCallStreamParser::push(token text) → deltas (content, reasoning, call
//      start with id+name, argument fragments); finish() at the end. Or parse_tool_output().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inference/types.hpp"

namespace inference::grammar {

enum class ToolCallFormat { llama3, hermes, mistral, generic };

/// "llama3", "hermes", "mistral", "generic".
std::string_view to_string(ToolCallFormat format);
/// The family's syntax, recognised from its chat template source (generic when unknown).
ToolCallFormat tool_call_format_for_template(std::string_view chat_template);

struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters;  ///< JSON Schema of the arguments (JSON text); empty = any object
};

struct ToolChoice {
  enum class Mode { none, automatic, required, named };
  Mode mode = Mode::automatic;
  std::string name;  ///< Mode::named: the function that must be called
};

/// GBNF for the assistant's reply: text or calls (automatic), calls only (required, named).
/// Empty for Mode::none. Throws Error(invalid_argument) for an unknown named tool or bad
/// tool list, Error(unsupported) for unsupported keywords in a parameters schema.
std::string tool_call_gbnf(ToolCallFormat format, const std::vector<ToolSpec>& tools,
                           const ToolChoice& choice, bool parallel_calls = true);

struct ParsedToolOutput {
  std::string content;    ///< text outside calls (trimmed)
  std::string reasoning;  ///< the <think> block's text, if any
  std::vector<ToolCall> tool_calls;
};

/// Splits a complete reply. Text that does not form a call stays content. With parse_calls
/// false (no tools offered, or tool_choice none) only the <think> block is split off.
ParsedToolOutput parse_tool_output(ToolCallFormat format, std::string_view text,
                                   bool parse_calls = true);

/// One streamed piece of a reply.
struct ToolStreamEvent {
  enum class Kind { content, reasoning, call_start, call_arguments };
  Kind kind = Kind::content;
  int index = 0;     ///< call index (call_start, call_arguments)
  std::string text;  ///< content/reasoning text, or an arguments fragment
  std::string id;    ///< call_start
  std::string name;  ///< call_start
};

/// Incremental parsing: feed text as it is generated; the events of all pushes (and finish)
/// concatenate to parse_tool_output() of the whole text: the call's id and name come first
/// (call_start), then its arguments in fragments. Text that may still turn into a marker
/// (e.g. "<tool_" at the end) is held back until it is decided.
class ToolCallStreamParser {
 public:
  explicit ToolCallStreamParser(ToolCallFormat format, bool parse_calls = true);
  std::vector<ToolStreamEvent> push(std::string_view text);
  std::vector<ToolStreamEvent> finish();

 private:
  std::vector<ToolStreamEvent> update(bool final);

  ToolCallFormat format_;
  bool parse_calls_;
  std::string text_;
  size_t reasoning_sent_ = 0;
  size_t content_sent_ = 0;
  std::vector<std::string> ids_;
  std::vector<size_t> args_sent_;
  bool finished_ = false;
};

/// A fresh call id: "call_" + 24 letters/digits (Mistral: 9 letters/digits, as its template
/// requires).
std::string new_tool_call_id(ToolCallFormat format);

}  // namespace inference::grammar
