// POST /v1/messages — Anthropic Message objects, or the streamed event sequence message_start,
// content_block_start, ping, content_block_delta (text_delta)…, content_block_stop,
// message_delta (stop_reason, usage), message_stop; POST /v1/messages/count_tokens.
#include "server/endpoints.hpp"
#include "server/http_util.hpp"
#include "server/prompt_budget.hpp"
#include "server/response_format.hpp"
#include "server/sse.hpp"

namespace inference::server {

namespace {

class MessagesWriter final : public JobWriter {
 public:
  MessagesWriter(const MessagesRequest& request, std::string model)
      : stream_(request.sampling.stream),
        stops_(request.stop_sequences),
        id_("msg_" + random_id()),
        model_(std::move(model)) {}

  std::string on_event(JobEvent& e) override {
    prompt_tokens_ = std::max(prompt_tokens_, e.prompt_tokens);
    std::string out;
    if (stream_ && !started_) {
      started_ = true;
      // Sent with the first token, when the backend's own prompt count is known.
      nlohmann::json message = message_object(nlohmann::json::array(), nullptr);
      message["usage"]["output_tokens"] = 0;
      out += sse_event("message_start", {{"type", "message_start"}, {"message", message}});
      out +=
          sse_event("content_block_start", {{"type", "content_block_start"},
                                            {"index", 0},
                                            {"content_block", {{"type", "text"}, {"text", ""}}}});
      out += sse_event("ping", {{"type", "ping"}});
    }
    if (!e.end) {
      ++tokens_;
      if (e.token.text.empty()) return out;
      if (!stream_) {
        text_ += e.token.text;
        return out;
      }
      return out + sse_event("content_block_delta",
                             {{"type", "content_block_delta"},
                              {"index", 0},
                              {"delta", {{"type", "text_delta"}, {"text", e.token.text}}}});
    }
    end_ = e.result;
    prompt_tokens_ = std::max(prompt_tokens_, end_.metrics.prompt_tokens);
    tokens_ = std::max(tokens_, end_.metrics.generated_tokens);
    if (!stream_) return out;
    if (!end_.status.ok())
      return out + sse_event("error", error_body(ApiStyle::anthropic, api_error_for(end_.status)));
    out += sse_event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
    out += sse_event("message_delta", {{"type", "message_delta"},
                                       {"delta",
                                        {{"stop_reason", anthropic_stop_reason(end_.finish)},
                                         {"stop_sequence", stop_sequence()}}},
                                       {"usage", {{"output_tokens", tokens_}}}});
    out += sse_event("message_stop", {{"type", "message_stop"}});
    return out;
  }

  std::string finish() override {
    if (stream_) return {};
    if (!end_.status.ok())
      return json_text(error_body(ApiStyle::anthropic, api_error_for(end_.status)));
    nlohmann::json content = nlohmann::json::array({{{"type", "text"}, {"text", text_}}});
    nlohmann::json message = message_object(std::move(content), anthropic_stop_reason(end_.finish));
    message["stop_sequence"] = stop_sequence();
    return json_text(message);
  }

 private:
  nlohmann::json message_object(nlohmann::json content, nlohmann::json stop_reason) const {
    return {{"id", id_},
            {"type", "message"},
            {"role", "assistant"},
            {"model", model_},
            {"content", std::move(content)},
            {"stop_reason", std::move(stop_reason)},
            {"stop_sequence", nullptr},
            {"usage", {{"input_tokens", prompt_tokens_}, {"output_tokens", tokens_}}}};
  }

  // The backend names the stop string that matched; one that does not (a remote server)
  // leaves it to us only when there was a single candidate.
  nlohmann::json stop_sequence() const {
    if (end_.finish != FinishReason::stop) return nullptr;
    if (!end_.metrics.stop_string.empty()) return end_.metrics.stop_string;
    if (stops_.size() == 1) return stops_[0];
    return nullptr;
  }

  bool stream_;
  std::vector<std::string> stops_;
  std::string id_;
  std::string model_;
  bool started_ = false;
  std::string text_;
  int64_t prompt_tokens_ = 0;
  int64_t tokens_ = 0;
  ChoiceEnd end_;
};

}  // namespace

void handle_messages(ServerState& state, const Req& req, Res& res) {
  const auto arrival = GenerationJob::Clock::now();
  TextModel& model = state.require_model();
  MessagesRequest request = parse_messages_request(parse_json_body(req.body), state.limits());
  const int64_t prompt_tokens = count_chat_tokens(state, request.messages);
  GenerateConfig c = request.sampling.config;
  c.max_tokens = fit_to_context(state, prompt_tokens, request.sampling.max_tokens,
                                ApiStyle::anthropic, "messages");
  c.seed = choice_seed(request.sampling.seed, 0);
  auto messages = std::make_shared<const std::vector<Message>>(request.messages);
  std::vector<ChoicePlan> plans;
  plans.push_back(
      {.start = [&model, messages, c](const Context& ctx) { return model.chat(ctx, *messages, c); },
       .max_tokens = c.max_tokens,
       .prompt_tokens = prompt_tokens});
  auto job = std::make_shared<GenerationJob>(state, std::move(plans), arrival);
  auto writer = std::make_shared<MessagesWriter>(request, state.model_id);
  serve_job(res, std::move(job), std::move(writer),
            request.sampling.stream ? "text/event-stream" : "application/json");
}

void handle_count_tokens(ServerState& state, const Req& req, Res& res) {
  state.require_model();
  MessagesRequest request =
      parse_messages_request(parse_json_body(req.body), state.limits(), /*count_tokens_only=*/true);
  const int64_t tokens = count_chat_tokens(state, request.messages);
  if (tokens < 0) throw ApiError(400, "this backend has no tokenizer: tokens cannot be counted");
  send_json(res, 200, {{"input_tokens", tokens}});
}

}  // namespace inference::server
