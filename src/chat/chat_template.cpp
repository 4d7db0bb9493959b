#include "chat/chat_template.hpp"

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
  if (architecture == "gemma3") return "gemma3";
  if (architecture == "llama") return "llama3";
  if (architecture == "qwen2" || architecture == "qwen3") return "chatml";
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

std::string ChatTemplate::render_variables(const nlohmann::ordered_json& variables,
                                           const RenderOptions& options) const {
  if (!variables.is_object()) {
    throw Error(ErrorCode::invalid_argument, "template variables must be a JSON object");
  }
  jinja::Value converted = jinja::from_json(variables);
  jinja::Interpreter interpreter(
      impl_->program, jinja::Limits{},
      options.clock ? options.clock : std::function<std::tm()>(local_now));
  return interpreter.render(converted.dict());
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
  nlohmann::ordered_json variables = nlohmann::ordered_json::object();
  variables["messages"] = nlohmann::ordered_json::parse(messages.dump());
  variables["tools"] = nlohmann::ordered_json::parse(options.tools.dump());
  variables["documents"] = nullptr;
  variables["add_generation_prompt"] = options.add_generation_prompt;
  if (!options.bos_token.empty()) variables["bos_token"] = options.bos_token;
  if (!options.eos_token.empty()) variables["eos_token"] = options.eos_token;
  if (options.extra.is_object()) {
    for (auto it = options.extra.begin(); it != options.extra.end(); ++it) {
      variables[it.key()] = nlohmann::ordered_json::parse(it.value().dump());
    }
  }
  return render_variables(variables, options);
}

const std::string& ChatTemplate::source() const noexcept {
  return impl_->source;
}

}  // namespace inference::chat
