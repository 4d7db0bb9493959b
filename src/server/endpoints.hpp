// server/endpoints.hpp — one handler per endpoint; server.cpp routes to them. Internal.
#pragma once

#include <httplib.h>

#include "server/server_state.hpp"

namespace inference::server {

using Req = httplib::Request;
using Res = httplib::Response;

// OpenAI (openai_chat.cpp, openai_completions.cpp, openai_models.cpp)
void handle_chat_completions(ServerState& state, const Req& req, Res& res);
void handle_completions(ServerState& state, const Req& req, Res& res);
void handle_models(ServerState& state, const Req& req, Res& res);
void handle_model(ServerState& state, const Req& req, Res& res);

// Anthropic (anthropic_messages.cpp)
void handle_messages(ServerState& state, const Req& req, Res& res);
void handle_count_tokens(ServerState& state, const Req& req, Res& res);

// llama-server (llama_endpoints.cpp, llama_completion.cpp)
void handle_health(ServerState& state, const Req& req, Res& res);
void handle_tokenize(ServerState& state, const Req& req, Res& res);
void handle_detokenize(ServerState& state, const Req& req, Res& res);
void handle_apply_template(ServerState& state, const Req& req, Res& res);
void handle_llama_completion(ServerState& state, const Req& req, Res& res);
void handle_props(ServerState& state, const Req& req, Res& res);
void handle_slots(ServerState& state, const Req& req, Res& res);
void handle_metrics(ServerState& state, const Req& req, Res& res);
// llama-server's LoRA endpoints (lora_endpoints.cpp)
void handle_lora_adapters(ServerState& state, const Req& req, Res& res);
void handle_set_lora_adapters(ServerState& state, const Req& req, Res& res);

/// Per-choice seed: the request's seed + the choice index, or a fresh random one.
uint64_t choice_seed(const std::optional<uint64_t>& seed, size_t index);

}  // namespace inference::server
