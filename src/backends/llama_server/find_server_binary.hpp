// backends/llama_server/find_server_binary.hpp — where the llama-server binary is.
#pragma once

#include <optional>
#include <string>

namespace inference::llama_server {

/// The first of: `configured` (LoadConfig::executable), $INFERENCE_LLAMA_SERVER, `llama-server`
/// on $PATH — that is an executable file. nullopt when none is; `why` then says what was
/// tried.
std::optional<std::string> find_server_binary(const std::string& configured, std::string* why);

}  // namespace inference::llama_server
