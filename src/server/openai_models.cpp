// GET /v1/models and /v1/models/{id}: the served model as an OpenAI model object, plus what
// a client choosing a model wants to know (architecture, quantisation, context, parameters)
// and the live prefill/decode speeds.
#include "server/endpoints.hpp"
#include "server/http_util.hpp"

namespace inference::server {

namespace {

nlohmann::json model_object(const ServerState& state) {
  const ModelInfo& info = state.info;
  return {{"id", state.model_id},
          {"object", "model"},
          {"created", state.created},
          {"owned_by", "infer"},
          {"architecture", info.architecture},
          {"quantization", info.quantization},
          {"context_length", info.context_length},
          {"train_context_length", info.train_context_length},
          {"parameters", info.parameter_count},
          {"size_bytes", info.file_size},
          {"backend", info.backend},
          {"slots", state.pool->size()},
          {"prefill_tokens_per_second", state.metrics.last_prefill_tokens_per_second()},
          {"decode_tokens_per_second", state.metrics.last_decode_tokens_per_second()}};
}

}  // namespace

void handle_models(ServerState& state, const Req&, Res& res) {
  state.require_model();
  send_json(res, 200, {{"object", "list"}, {"data", nlohmann::json::array({model_object(state)})}});
}

void handle_model(ServerState& state, const Req& req, Res& res) {
  state.require_model();
  const std::string id = req.matches.size() > 1 ? req.matches[1].str() : "";
  if (id != state.model_id)
    throw ApiError(
        404, "The model '" + id + "' does not exist; this server serves '" + state.model_id + "'",
        "model", "model_not_found");
  send_json(res, 200, model_object(state));
}

}  // namespace inference::server
