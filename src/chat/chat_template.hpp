// chat/chat_template.hpp — rendering conversations into prompt text.
//
// A model's own Jinja template (GGUF tokenizer.chat_template / tokenizer_config.json
// chat_template) is rendered by our Jinja-subset interpreter with the semantics of Hugging Face
// transformers' apply_chat_template (jinja2 sandbox, trim_blocks, lstrip_blocks, loopcontrols,
// tojson = json.dumps). Architectures without a template get a built-in one. Anything the
// interpreter does not support is an error naming it, never a wrong rendering.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace inference::chat {

struct RenderOptions {
  bool add_generation_prompt = true;
  std::string bos_token;                            ///< passed as `bos_token` when non-empty
  std::string eos_token;                            ///< passed as `eos_token` when non-empty
  nlohmann::json tools = nullptr;                   ///< `tools` (null when absent)
  nlohmann::json extra = nlohmann::json::object();  ///< other variables (enable_thinking, …)
  /// Local time for the template's strftime_now(); empty means the real local time. Tests pin it.
  std::function<std::tm()> clock;
  /// Bounds that make hostile templates fail cleanly: the largest output (and any string or
  /// list the template builds), and a work budget in evaluation steps.
  size_t max_output_bytes = size_t{16} << 20;
  uint64_t max_steps = 20'000'000;
};

class ChatTemplate {
 public:
  /// Parses a Jinja template. Throws inference::Error(invalid_argument) for syntax errors and
  /// Error(unsupported) for constructs the interpreter does not implement, naming them.
  static ChatTemplate from_jinja(std::string source);
  /// A built-in template: "gemma3", "llama3", "mistral", "chatml" (Qwen 2.5). Throws
  /// Error(not_found) for other names.
  static ChatTemplate builtin(std::string_view name);
  /// The built-in template for a GGUF general.architecture ("gemma3", "llama", "qwen2", …), if
  /// any; "llama" maps to llama3.
  static std::string builtin_name_for_architecture(std::string_view architecture);

  /// Renders `messages` (a JSON array of {role, content, …} objects, OpenAI/HF style).
  /// A template's raise_exception(msg) throws Error(invalid_argument) with exactly msg; other
  /// runtime failures (Python's TypeError, jinja2's UndefinedError) throw
  /// Error(invalid_argument) naming the template line. Work, output size and macro recursion
  /// are bounded: a runaway template fails instead of hanging.
  /// Keys of `messages` objects come in nlohmann::json's (sorted) order; use render_variables
  /// with ordered_json to keep the caller's order.
  std::string render(const nlohmann::json& messages, const RenderOptions& options = {}) const;

  /// Renders with an explicit set of template variables (messages, tools, add_generation_prompt,
  /// bos_token, enable_thinking, …), passed as given. Object keys keep the order of the JSON
  /// text, as Python dicts do — which tojson shows — so prefer this when the input was parsed
  /// from a file or a request. Only the clock and the limits are used from `options`.
  std::string render_variables(const nlohmann::ordered_json& variables,
                               const RenderOptions& options = {}) const;

  const std::string& source() const noexcept;

  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

 private:
  struct Impl;
  explicit ChatTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inference::chat
