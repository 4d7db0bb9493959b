// llama-server's LoRA endpoints: GET /lora-adapters lists the adapters loaded at start with their
// current scales; POST /lora-adapters sets those scales for every later request that does not
// carry its own `lora` list. Each request's scales apply to its own sequence only, so requests
// with different adapters share one batch (the engine keeps scales per sequence).
#include "server/endpoints.hpp"
#include "server/http_util.hpp"

namespace inference::server {

void handle_lora_adapters(ServerState& state, const Req&, Res& res) {
  state.require_model();
  const std::vector<float> scales = state.adapter_scales();
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < state.adapters.size(); ++i)
    list.push_back({{"id", i}, {"path", state.adapters[i].path}, {"scale", scales[i]}});
  send_json(res, 200, list);
}

void handle_set_lora_adapters(ServerState& state, const Req& req, Res& res) {
  state.require_model();
  // The body is an array, which parse_json_body (objects only) refuses: parse it as the one
  // member of an object, keeping that function's size, depth and syntax checks.
  const json body = parse_json_body("{\"lora\":" + req.body + "}")["lora"];
  // The same list a request's `lora` field carries: adapters it leaves out are switched off.
  state.set_adapter_scales(parse_lora_scales(body, "", state.adapters.size()));
  send_json(res, 200, {{"success", true}});
}

}  // namespace inference::server
