// backends/native/chat_prompt.hpp — conversation → prompt text → token ids, BOS exactly once.
//
// The model's own Jinja template (tokenizer.chat_template) is used when the file has one,
// otherwise the built-in template for its architecture. Templates usually write the BOS text
// themselves ("<s>[INST] …"): then the text is encoded without adding specials, so BOS appears
// once; otherwise the tokenizer's own BOS rule applies. Control-token text in the rendered
// prompt (e.g. "<|im_start|>") becomes those tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chat/chat_template.hpp"
#include "inference/types.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::native {

class ChatPrompt {
 public:
  /// `source` is the model's template ("" = none); `architecture` picks the built-in one.
  /// Never throws: a template that cannot be used is reported when rendering.
  ChatPrompt(const std::string& source, const std::string& architecture,
             const tokenizer::Tokenizer& tokenizer);

  /// The prompt text for `messages`. Throws Error (invalid_argument from the template,
  /// unsupported when the model has no usable template).
  std::string render(std::span<const Message> messages, bool add_generation_prompt = true) const;
  /// The same with the template's `tools` variable (a JSON array text; empty = none) and the
  /// tool calls and results of `messages` (see chat/message_json.hpp).
  std::string render_with_tools(std::span<const Message> messages, const std::string& tools_json,
                                bool add_generation_prompt = true) const;
  /// The template's Jinja source ("" when the model has no usable template).
  std::string source() const;
  /// The ids of rendered text, with BOS exactly once.
  std::vector<int32_t> encode(const std::string& rendered) const;

 private:
  const tokenizer::Tokenizer& tokenizer_;
  std::optional<chat::ChatTemplate> template_;
  std::string error_;  // why there is no template
  std::string bos_text_;
  std::string eos_text_;
};

}  // namespace inference::native
