// Fuzz target: the tool-call reply parsers (whole text and streaming) on arbitrary model output.
// Byte 0 picks the family syntax and whether calls are parsed; byte 1 the streaming chunk size.
// Nothing may crash or hang; streamed events must be consistent: every call starts (id and
// name) before its argument fragments, and indices count up from 0.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "grammar/tool_calls.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::grammar;
  if (size < 2) return 0;
  const auto format = static_cast<ToolCallFormat>(data[0] % 4);
  const bool parse_calls = (data[0] & 4) == 0;
  const size_t chunk = 1 + data[1] % 16;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  const ParsedToolOutput whole = parse_tool_output(format, text, parse_calls);
  if (!parse_calls && !whole.tool_calls.empty()) __builtin_trap();

  ToolCallStreamParser parser(format, parse_calls);
  std::string content, reasoning;
  int calls = 0;
  auto take = [&](const std::vector<ToolStreamEvent>& events) {
    for (const ToolStreamEvent& e : events) {
      switch (e.kind) {
        case ToolStreamEvent::Kind::content:
          content += e.text;
          break;
        case ToolStreamEvent::Kind::reasoning:
          reasoning += e.text;
          break;
        case ToolStreamEvent::Kind::call_start:
          if (e.index != calls || e.id.empty() || !parse_calls) __builtin_trap();
          ++calls;
          break;
        case ToolStreamEvent::Kind::call_arguments:
          if (e.index < 0 || e.index >= calls) __builtin_trap();
          break;
      }
    }
  };
  for (size_t at = 0; at < text.size(); at += chunk) take(parser.push(text.substr(at, chunk)));
  take(parser.finish());
  // Without calls parsed, the text is reasoning and content only, nothing is lost or invented.
  if (!parse_calls && reasoning.size() + content.size() > text.size()) __builtin_trap();
  return 0;
}
