#include "backends/native/chat_prompt.hpp"

#include <nlohmann/json.hpp>

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
  if (!template_) throw Error(ErrorCode::unsupported, error_);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  chat::RenderOptions options;
  options.add_generation_prompt = add_generation_prompt;
  options.bos_token = bos_text_;
  options.eos_token = eos_text_;
  return template_->render(list, options);
}

std::vector<int32_t> ChatPrompt::encode(const std::string& rendered) const {
  const bool has_bos = !bos_text_.empty() && rendered.starts_with(bos_text_);
  return tokenizer_.encode(rendered, /*add_special=*/!has_bos, /*parse_special=*/true);
}

}  // namespace inference::native
