// server/reply_parser.hpp — splits a chat reply, as it streams, into what the APIs return
// apart: reasoning (<think>…</think>), text, and tool calls in the model family's syntax.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "grammar/tool_calls.hpp"

namespace inference::server {

/// What a reply may contain, decided per request from the chat template and the tools.
struct ReplySyntax {
  grammar::ToolCallFormat format = grammar::ToolCallFormat::generic;
  bool parse_calls = false;          ///< tools were offered and may be called
  bool reasoning = false;            ///< the template knows <think> blocks
  bool starts_in_reasoning = false;  ///< the prompt already opened <think> (DeepSeek-R1)
};

using ReplyEvent = grammar::ToolStreamEvent;

/// Feed generated text with push(); the events of all pushes and finish() are the reply's
/// reasoning, content and calls (call_start with id and name, then argument fragments). With
/// nothing to split (no tools, no reasoning), text passes through at once.
class ReplyParser {
 public:
  explicit ReplyParser(const ReplySyntax& syntax);
  std::vector<ReplyEvent> push(std::string_view text);
  std::vector<ReplyEvent> finish();

 private:
  std::optional<grammar::ToolCallStreamParser> parser_;
};

}  // namespace inference::server
