// chat/builtin_templates.hpp — the Jinja sources of the built-in chat formats, used when a model
// carries no template of its own.
#pragma once

#include <optional>
#include <string_view>

namespace inference::chat {

/// The Jinja source of built-in template `name` ("gemma3", "llama3", "mistral", "chatml").
std::optional<std::string_view> builtin_template_source(std::string_view name);

}  // namespace inference::chat
