#include "chat/chat_template.hpp"

#include "arch/architecture.hpp"
#include "chat/builtin_templates.hpp"
#include "chat/jinja/interpreter.hpp"
#include "chat/jinja/parser.hpp"
#include "inference/error.hpp"

namespace inference::chat {

struct ChatTemplate::Impl {
  std::string source;
  jinja::Program program;
};

ChatTemplate::ChatTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

ChatTemplate ChatTemplate::from_jinja(std::string source) {
  auto impl = std::make_unique<Impl>();
  impl->program = jinja::parse(source);
  impl->source = std::move(source);
  return ChatTemplate(std::move(impl));
}

ChatTemplate ChatTemplate::builtin(std::string_view name) {
  auto source = builtin_template_source(name);
  if (!source) {
    throw Error(ErrorCode::not_found, "no built-in chat template named '" + std::string(name) +
                                          "' (known: gemma3, llama3, mistral, chatml)");
  }
  return from_jinja(std::string(*source));
}

std::string ChatTemplate::builtin_name_for_architecture(std::string_view architecture) {
  if (const arch::Architecture* a = arch::find(architecture)) return std::string(a->chat_template);
  // llama.cpp's newer GGUF name for Mistral models: the engine runs them as "llama" (so it is
  // not in the architecture table), but the template is known.
  if (architecture == "mistral") return "mistral";
  return "";
}

namespace {

std::tm local_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

}  // namespace

namespace {

std::string render_program(const jinja::Program& program, const jinja::Dict& variables,
                           const RenderOptions& options) {
  jinja::Limits limits;
  limits.sizes.max_string_bytes = options.max_output_bytes;
  limits.max_steps = options.max_steps;
  jinja::Interpreter interpreter(
      program, limits, options.clock ? options.clock : std::function<std::tm()>(local_now));
  return interpreter.render(variables);
}

}  // namespace

std::string ChatTemplate::render_variables(const nlohmann::ordered_json& variables,
                                           const RenderOptions& options) const {
  if (!variables.is_object()) {
    throw Error(ErrorCode::invalid_argument, "template variables must be a JSON object");
  }
  return render_program(impl_->program, jinja::from_json(variables).dict(), options);
}

std::string ChatTemplate::render(const nlohmann::json& messages,
                                 const RenderOptions& options) const {
  if (!messages.is_array()) {
    throw Error(ErrorCode::invalid_argument, "chat messages must be a JSON array");
  }
  if (!options.extra.is_null() && !options.extra.is_object()) {
    throw Error(ErrorCode::invalid_argument, "extra template variables must be a JSON object");
  }
  // The variables Hugging Face's apply_chat_template passes.
  jinja::Dict variables;
  variables.set("messages", jinja::from_json(messages));
  variables.set("tools", jinja::from_json(options.tools));
  variables.set("documents", jinja::Value::none());
  variables.set("add_generation_prompt", jinja::Value(options.add_generation_prompt));
  if (!options.bos_token.empty())
    variables.set("bos_token", jinja::from_json(nlohmann::json(options.bos_token)));
  if (!options.eos_token.empty())
    variables.set("eos_token", jinja::from_json(nlohmann::json(options.eos_token)));
  if (options.extra.is_object()) {
    for (auto it = options.extra.begin(); it != options.extra.end(); ++it) {
      variables.set(it.key(), jinja::from_json(it.value()));
    }
  }
  return render_program(impl_->program, variables, options);
}

const std::string& ChatTemplate::source() const noexcept {
  return impl_->source;
}

}  // namespace inference::chat
