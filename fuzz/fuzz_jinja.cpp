// Fuzz target: parse arbitrary bytes as a chat template and render it against a fixed
// conversation (with tools and special tokens). Errors must be inference::Error; anything else
// (crash, sanitizer report, other exception, hang) is a bug. Limits are tightened so that a
// runaway template ends quickly.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.hpp"
#include "inference/error.hpp"

namespace {

const nlohmann::ordered_json& variables() {
  static const nlohmann::ordered_json vars = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "  Be brief. "},
      {"role": "user", "content": "Hi, caf\u00e9 \ud83d\ude42"},
      {"role": "assistant", "content": "", "tool_calls": [{"id": "call00001", "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "sunny"},
      {"role": "user", "content": [{"type": "text", "text": "and "}, {"type": "image"}]}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
      "required": ["city"]}}}],
    "documents": null,
    "add_generation_prompt": true,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "enable_thinking": false
  })");
  return vars;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string source(reinterpret_cast<const char*>(data), size);
  inference::chat::RenderOptions options;
  options.max_steps = 200000;
  options.max_output_bytes = size_t{1} << 20;
  options.clock = [] {
    std::tm tm{};
    tm.tm_year = 125;
    tm.tm_mon = 2;
    tm.tm_mday = 14;
    return tm;
  };
  try {
    auto tmpl = inference::chat::ChatTemplate::from_jinja(std::move(source));
    (void)tmpl.render_variables(variables(), options);
  } catch (const inference::Error&) {
  }
  return 0;
}
