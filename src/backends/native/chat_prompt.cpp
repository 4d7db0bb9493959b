#include "backends/native/chat_prompt.hpp"

#include <nlohmann/json.hpp>

#include "chat/message_json.hpp"
#include "inference/error.hpp"
#include "inference/log.hpp"

namespace inference::native {

ChatPrompt::ChatPrompt(const std::string& source, const std::string& architecture,
                       const tokenizer::Tokenizer& tokenizer)
    : tokenizer_(tokenizer) {
  if (tokenizer.bos_id() >= 0) bos_text_ = std::string(tokenizer.token_text(tokenizer.bos_id()));
  if (tokenizer.eos_id() >= 0) eos_text_ = std::string(tokenizer.token_text(tokenizer.eos_id()));
  try {
    if (!source.empty()) {
      template_.emplace(chat::ChatTemplate::from_jinja(source));
      return;
    }
    const std::string name = chat::ChatTemplate::builtin_name_for_architecture(architecture);
    if (name.empty()) {
      error_ = "the model has no chat template and there is no built-in one for architecture '" +
               architecture + "'";
      return;
    }
    template_.emplace(chat::ChatTemplate::builtin(name));
  } catch (const Error& e) {
    // A template our interpreter cannot run: chat() reports it; generate() still works.
    error_ = std::string("the model's chat template cannot be used: ") + e.what();
    log(LogLevel::warning, error_);
  }
}

std::string ChatPrompt::render(std::span<const Message> messages,
                               bool add_generation_prompt) const {
  // Tool calls and results in the history render as the template expects them.
  return render_with_tools(messages, "", add_generation_prompt);
}

std::string ChatPrompt::render_with_tools(std::span<const Message> messages,
                                          const std::string& tools_json,
                                          bool add_generation_prompt) const {
  if (!template_) throw Error(ErrorCode::unsupported, error_);
  // The variables of Hugging Face's apply_chat_template, in ordered JSON so that the tools'
  // schemas and the calls' arguments keep the client's key order (templates tojson them).
  nlohmann::ordered_json variables;
  variables["messages"] = chat::messages_json(messages);
  variables["tools"] = nullptr;
  if (!tools_json.empty()) {
    auto tools = nlohmann::ordered_json::parse(tools_json, nullptr, /*allow_exceptions=*/false);
    if (!tools.is_array())
      throw Error(ErrorCode::invalid_argument, "tools: expected a JSON array of tools");
    if (!tools.empty()) variables["tools"] = std::move(tools);
  }
  variables["documents"] = nullptr;
  variables["add_generation_prompt"] = add_generation_prompt;
  if (!bos_text_.empty()) variables["bos_token"] = bos_text_;
  if (!eos_text_.empty()) variables["eos_token"] = eos_text_;
  return template_->render_variables(variables);
}

std::string ChatPrompt::source() const {
  return template_ ? template_->source() : std::string();
}

std::vector<int32_t> ChatPrompt::encode(const std::string& rendered) const {
  const bool has_bos = !bos_text_.empty() && rendered.starts_with(bos_text_);
  return tokenizer_.encode(rendered, /*add_special=*/!has_bos, /*parse_special=*/true);
}

}  // namespace inference::native
