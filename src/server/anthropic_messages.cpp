// POST /v1/messages — Anthropic Message objects, or the streamed event sequence message_start,
// content_block_start, ping, content_block_delta (text_delta)…, content_block_stop,
// message_delta (stop_reason, usage), message_stop; POST /v1/messages/count_tokens.
#include "server/endpoints.hpp"
#include "server/http_util.hpp"
#include "server/prompt_budget.hpp"
#include "server/response_format.hpp"
#include "server/sse.hpp"
#include "server/tool_chat.hpp"

namespace inference::server {

namespace {

// An Anthropic tool_use id. Mistral's template insists on its own 9-character ids, which the
// client sends back in tool_result blocks, so those are kept as they are.
std::string tool_use_id(const ReplyEvent& event, grammar::ToolCallFormat format) {
  if (format == grammar::ToolCallFormat::mistral) return event.id;
  return "toolu_" + random_id();
}

class MessagesWriter final : public JobWriter {
 public:
  MessagesWriter(const MessagesRequest& request, std::string model, const ReplySyntax& syntax)
      : stream_(request.sampling.stream),
        stops_(request.stop_sequences),
        id_("msg_" + random_id()),
        model_(std::move(model)),
        format_(syntax.format),
        parser_(syntax) {}

  std::string on_event(JobEvent& e) override {
    prompt_tokens_ = std::max(prompt_tokens_, e.prompt_tokens);
    std::string out;
    if (stream_ && !started_) {
      started_ = true;
      // Sent with the first token, when the backend's own prompt count is known.
      nlohmann::json message = message_object(nlohmann::json::array(), nullptr);
      message["usage"]["output_tokens"] = 0;
      out += sse_event("message_start", {{"type", "message_start"}, {"message", message}});
    }
    if (!e.end) {
      ++tokens_;
      if (e.token.text.empty()) return out;
      for (const ReplyEvent& event : parser_.push(e.token.text)) out += apply(event);
      return out;
    }
    end_ = e.result;
    prompt_tokens_ = std::max(prompt_tokens_, end_.metrics.prompt_tokens);
    tokens_ = std::max(tokens_, end_.metrics.generated_tokens);
    for (const ReplyEvent& event : parser_.finish()) out += apply(event);
    if (!stream_) return out;
    if (!end_.status.ok())
      return out + sse_event("error", error_body(ApiStyle::anthropic, api_error_for(end_.status)));
    if (blocks_.empty()) out += open_block({{"type", "text"}, {"text", ""}});
    out += close_block();
    out +=
        sse_event("message_delta",
                  {{"type", "message_delta"},
                   {"delta", {{"stop_reason", stop_reason()}, {"stop_sequence", stop_sequence()}}},
                   {"usage", {{"output_tokens", tokens_}}}});
    out += sse_event("message_stop", {{"type", "message_stop"}});
    return out;
  }

  std::string finish() override {
    if (stream_) return {};
    if (!end_.status.ok())
      return json_text(error_body(ApiStyle::anthropic, api_error_for(end_.status)));
    nlohmann::json content = nlohmann::json::array();
    for (const Block& b : blocks_) {
      if (b.kind == ReplyEvent::Kind::reasoning) {
        content.push_back({{"type", "thinking"}, {"thinking", b.text}, {"signature", ""}});
      } else if (b.kind == ReplyEvent::Kind::content) {
        content.push_back({{"type", "text"}, {"text", b.text}});
      } else {
        auto input = nlohmann::json::parse(b.text, nullptr, /*allow_exceptions=*/false);
        if (!input.is_object()) input = nlohmann::json::object();  // cut off by max_tokens
        content.push_back({{"type", "tool_use"}, {"id", b.id}, {"name", b.name}, {"input", input}});
      }
    }
    if (content.empty()) content.push_back({{"type", "text"}, {"text", ""}});
    nlohmann::json message = message_object(std::move(content), stop_reason());
    message["stop_sequence"] = stop_sequence();
    return json_text(message);
  }

 private:
  // One content block of the reply: thinking, text or tool_use (kind call_start).
  struct Block {
    ReplyEvent::Kind kind;
    std::string text;  // thinking, text, or the tool's input JSON
    std::string id;
    std::string name;
  };

  // A parser event: extends the open block or starts the next one (streamed as Anthropic
  // does: content_block_start, deltas, content_block_stop per block).
  std::string apply(const ReplyEvent& event) {
    std::string out;
    switch (event.kind) {
      case ReplyEvent::Kind::reasoning:
      case ReplyEvent::Kind::content: {
        const bool thinking = event.kind == ReplyEvent::Kind::reasoning;
        if (blocks_.empty() || blocks_.back().kind != event.kind) {
          out += close_block();
          blocks_.push_back({event.kind, "", "", ""});
          out += open_block(
              thinking ? nlohmann::json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}
                       : nlohmann::json{{"type", "text"}, {"text", ""}});
        }
        blocks_.back().text += event.text;
        if (stream_)
          out +=
              delta(thinking ? nlohmann::json{{"type", "thinking_delta"}, {"thinking", event.text}}
                             : nlohmann::json{{"type", "text_delta"}, {"text", event.text}});
        return out;
      }
      case ReplyEvent::Kind::call_start: {
        out += close_block();
        blocks_.push_back({event.kind, "", tool_use_id(event, format_), event.name});
        calls_.push_back(blocks_.size() - 1);
        out += open_block({{"type", "tool_use"},
                           {"id", blocks_.back().id},
                           {"name", event.name},
                           {"input", nlohmann::json::object()}});
        return out;
      }
      case ReplyEvent::Kind::call_arguments: {
        if (event.index < 0 || static_cast<size_t>(event.index) >= calls_.size()) return out;
        blocks_[calls_[static_cast<size_t>(event.index)]].text += event.text;
        if (stream_) out += delta({{"type", "input_json_delta"}, {"partial_json", event.text}});
        return out;
      }
    }
    return out;
  }

  std::string open_block(const nlohmann::json& block) {
    if (!stream_) return {};
    if (blocks_.empty()) blocks_.push_back({ReplyEvent::Kind::content, "", "", ""});
    open_ = true;
    std::string out = sse_event(
        "content_block_start",
        {{"type", "content_block_start"}, {"index", blocks_.size() - 1}, {"content_block", block}});
    // Anthropic pings once, after the first block starts.
    if (!pinged_) out += sse_event("ping", {{"type", "ping"}});
    pinged_ = true;
    return out;
  }

  std::string close_block() {
    if (!stream_ || !open_) return {};
    open_ = false;
    return sse_event("content_block_stop",
                     {{"type", "content_block_stop"}, {"index", blocks_.size() - 1}});
  }

  std::string delta(nlohmann::json d) const {
    return sse_event(
        "content_block_delta",
        {{"type", "content_block_delta"}, {"index", blocks_.size() - 1}, {"delta", std::move(d)}});
  }

  nlohmann::json stop_reason() const {
    if (!calls_.empty() && end_.finish != FinishReason::length) return "tool_use";
    return anthropic_stop_reason(end_.finish);
  }

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
  grammar::ToolCallFormat format_;
  ReplyParser parser_;
  bool started_ = false;
  bool open_ = false;
  bool pinged_ = false;
  std::vector<Block> blocks_;
  std::vector<size_t> calls_;  // block index of each call
  int64_t prompt_tokens_ = 0;
  int64_t tokens_ = 0;
  ChoiceEnd end_;
};

}  // namespace

void handle_messages(ServerState& state, const Req& req, Res& res) {
  const auto arrival = GenerationJob::Clock::now();
  state.require_model();
  MessagesRequest request = parse_messages_request(parse_json_body(req.body), state.limits());
  keep_client_key_order(request.tools, req.body, /*anthropic=*/true);
  GenerateConfig c = request.sampling.config;
  auto messages = std::make_shared<const std::vector<Message>>(request.messages);
  const ChatPlan chat = plan_chat(state, messages, request.tools, c);
  c.max_tokens = fit_to_context(state, chat.prompt_tokens, request.sampling.max_tokens,
                                ApiStyle::anthropic, "messages");
  c.seed = choice_seed(request.sampling.seed, 0);
  std::vector<ChoicePlan> plans;
  plans.push_back({.start = [start = chat.start, c](const Context& ctx) { return start(ctx, c); },
                   .max_tokens = c.max_tokens,
                   .prompt_tokens = chat.prompt_tokens});
  auto job = std::make_shared<GenerationJob>(state, std::move(plans), arrival);
  auto writer = std::make_shared<MessagesWriter>(request, state.model_id, chat.syntax);
  serve_job(res, std::move(job), std::move(writer),
            request.sampling.stream ? "text/event-stream" : "application/json");
}

void handle_count_tokens(ServerState& state, const Req& req, Res& res) {
  state.require_model();
  MessagesRequest request =
      parse_messages_request(parse_json_body(req.body), state.limits(), /*count_tokens_only=*/true);
  keep_client_key_order(request.tools, req.body, /*anthropic=*/true);
  // The prompt as it would be generated from: with the tools rendered in.
  GenerateConfig unused;
  const int64_t tokens =
      plan_chat(state, std::make_shared<const std::vector<Message>>(std::move(request.messages)),
                request.tools, unused)
          .prompt_tokens;
  if (tokens < 0) throw ApiError(400, "this backend has no tokenizer: tokens cannot be counted");
  send_json(res, 200, {{"input_tokens", tokens}});
}

}  // namespace inference::server
