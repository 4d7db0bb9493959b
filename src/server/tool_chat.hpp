// server/tool_chat.hpp — how a chat request with tools (or a reasoning model's reply) is run:
// the prompt rendered by the model's own template with the tools, the grammar that makes the
// model call them in its family's native syntax, and the syntax its reply is parsed with.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inference/token_stream.hpp"
#include "server/reply_parser.hpp"
#include "server/server_state.hpp"

namespace inference::server {

/// A prepared chat generation.
struct ChatPlan {
  ReplySyntax syntax;
  int64_t prompt_tokens = -1;  ///< of the rendered prompt (-1 = unknown)
  /// Starts one choice with `config` (its seed and limits filled in).
  std::function<TokenStream(const Context&, const GenerateConfig&)> start;
};

/// Renders and checks the conversation, and for requests that may call a tool, sets
/// config.constraint to the tool-call grammar. Throws ApiError 400 for tools the model or
/// backend cannot serve, an unsupported keyword in a parameters schema, tools together with
/// another output constraint, or a conversation the template rejects.
ChatPlan plan_chat(ServerState& state, std::shared_ptr<const std::vector<Message>> messages,
                   const ToolsRequest& tools, GenerateConfig& config);

}  // namespace inference::server
