// llama-server's service endpoints: /health, /tokenize, /detokenize, /apply-template, /props,
// /slots, and Prometheus /metrics — in the shapes llama-server reports them, so its tools
// and our own llama_server backend can talk to us.
#include "inference/version.hpp"
#include "server/endpoints.hpp"
#include "server/http_util.hpp"
#include "server/sse.hpp"

namespace inference::server {

namespace {

TokenizerModel& require_tokenizer(ServerState& state) {
  state.require_model();
  if (!state.tokenizer)
    throw ApiError(501, "the '" + state.info.backend + "' backend has no tokenizer capability");
  return *state.tokenizer;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

}  // namespace

void handle_health(ServerState& state, const Req&, Res& res) {
  if (state.draining.load()) throw ApiError(503, "the server is shutting down");
  if (!state.ready.load()) throw ApiError(503, "Loading model");
  send_json(res, 200, {{"status", "ok"}});
}

void handle_tokenize(ServerState& state, const Req& req, Res& res) {
  TokenizerModel& tok = require_tokenizer(state);
  const TokenizeRequest r = parse_tokenize_request(parse_json_body(req.body));
  const std::vector<int32_t> ids = tok.encode(r.content, r.add_special, r.parse_special);
  nlohmann::json tokens = nlohmann::json::array();
  for (int32_t id : ids) {
    if (!r.with_pieces) {
      tokens.push_back(id);
      continue;
    }
    // llama-server gives a piece that is not valid UTF-8 on its own as its bytes.
    const std::string piece = tok.token_text(id);
    tokens.push_back(
        {{"id", id}, {"piece", valid_utf8(piece) ? nlohmann::json(piece) : utf8_bytes(piece)}});
  }
  send_json(res, 200, {{"tokens", tokens}});
}

void handle_detokenize(ServerState& state, const Req& req, Res& res) {
  TokenizerModel& tok = require_tokenizer(state);
  const auto ids = parse_detokenize_request(parse_json_body(req.body), state.limits());
  send_json(res, 200, {{"content", tok.decode(ids)}});
}

void handle_apply_template(ServerState& state, const Req& req, Res& res) {
  TokenizerModel& tok = require_tokenizer(state);
  const auto messages = parse_template_request(parse_json_body(req.body));
  std::string prompt;
  try {
    prompt = tok.apply_chat_template(messages, true);
  } catch (const Error& e) {
    throw ApiError(
        400, std::string("cannot format the messages with the model's chat template: ") + e.what(),
        "messages");
  }
  send_json(res, 200, {{"prompt", prompt}});
}

void handle_props(ServerState& state, const Req&, Res& res) {
  state.require_model();
  const ModelInfo& info = state.info;
  nlohmann::json settings = {{"id", 0},
                             {"id_task", -1},
                             {"n_ctx", info.context_length},
                             {"speculative", false},
                             {"is_processing", false},
                             {"params",
                              {{"n_predict", -1},
                               {"temperature", 0.8},
                               {"top_k", 40},
                               {"top_p", 0.95},
                               {"min_p", 0.05},
                               {"repeat_penalty", 1.0},
                               {"repeat_last_n", 64},
                               {"stream", false}}}};
  send_json(res, 200,
            {{"default_generation_settings", settings},
             {"total_slots", state.pool->size()},
             {"model_path", state.options.model_path},
             {"model_alias", state.model_id},
             {"modalities", {{"vision", false}, {"audio", false}}},
             {"chat_template", ""},
             {"build_info", "infer " + std::string(version())}});
}

void handle_slots(ServerState& state, const Req&, Res& res) {
  state.require_model();
  nlohmann::json slots = nlohmann::json::array();
  for (const SlotSnapshot& s : state.pool->snapshot()) {
    const int64_t remain =
        s.max_tokens > 0 ? std::max<int64_t>(0, s.max_tokens - s.decoded_tokens) : -1;
    slots.push_back({{"id", s.id},
                     {"id_task", s.task_id},
                     {"n_ctx", state.info.context_length},
                     {"speculative", false},
                     {"is_processing", s.is_processing},
                     {"n_prompt_tokens", s.prompt_tokens},
                     {"params", {{"n_predict", s.max_tokens > 0 ? s.max_tokens : -1}}},
                     {"next_token",
                      {{"has_next_token", s.is_processing},
                       {"has_new_line", false},
                       {"n_remain", remain},
                       {"n_decoded", s.decoded_tokens},
                       {"stopping_word", ""}}}});
  }
  send_json(res, 200, slots);
}

void handle_metrics(ServerState& state, const Req&, Res& res) {
  LiveGauges live;
  live.queue_depth = state.pool->queued();
  live.slots_total = state.pool->size();
  live.slots_busy = state.pool->busy();
  live.kv_tokens_in_use = state.pool->tokens_in_use();
  if (state.ready.load()) {  // the model's facts are set before `ready`, never after
    live.kv_tokens_capacity = state.info.context_length * state.pool->size();
    live.model_memory_bytes = state.model->metrics().active_memory_bytes;
  }
  res.status = 200;
  res.set_content(state.metrics.render(live), "text/plain; version=0.0.4");
}

}  // namespace inference::server
