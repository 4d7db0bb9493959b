// POST /v1/chat/completions — chat.completion objects, or chat.completion.chunk events over
// SSE ending in `data: [DONE]`, as the OpenAI SDKs parse them.
#include <map>

#include "inference/version.hpp"
#include "server/endpoints.hpp"
#include "server/http_util.hpp"
#include "server/prompt_budget.hpp"
#include "server/response_format.hpp"
#include "server/sse.hpp"
#include "server/tool_chat.hpp"

namespace inference::server {

namespace {

struct CallText {
  std::string id;
  std::string name;
  std::string arguments;
};

struct ChoiceText {
  explicit ChoiceText(const ReplySyntax& syntax) : parser(syntax) {}
  ReplyParser parser;
  std::string text;
  std::string reasoning;
  std::vector<CallText> calls;
  nlohmann::json logprobs = nlohmann::json::array();
  bool started = false;
  ChoiceEnd end;
  int64_t prompt_tokens = 0;
  int64_t tokens = 0;
};

class ChatWriter final : public JobWriter {
 public:
  ChatWriter(const ChatRequest& request, std::string model, size_t n, const ReplySyntax& syntax)
      : stream_(request.sampling.stream),
        include_usage_(request.include_usage),
        logprobs_(request.logprobs),
        top_logprobs_(request.top_logprobs),
        id_("chatcmpl-" + random_id()),
        created_(unix_now()),
        model_(std::move(model)),
        choices_(n, ChoiceText(syntax)) {}

  std::string on_event(JobEvent& e) override {
    ChoiceText& c = choices_[static_cast<size_t>(e.index)];
    c.prompt_tokens = e.prompt_tokens;
    std::string out;
    if (!e.end) {
      ++c.tokens;
      const bool has_logprob = logprobs_ && e.token.logprob.has_value();
      if (e.token.text.empty() && !has_logprob) return out;
      auto events = c.parser.push(e.token.text);
      if (!stream_) {
        absorb(c, events);
        if (has_logprob) c.logprobs.push_back(chat_logprob(e.token, top_logprobs_));
        return out;
      }
      out += start(e.index, c);
      nlohmann::json lp = nullptr;
      if (has_logprob)
        lp = {{"content", nlohmann::json::array({chat_logprob(e.token, top_logprobs_)})},
              {"refusal", nullptr}};
      // A token held back by the parser (the start of a marker) still carries its logprob.
      if (events.empty() && has_logprob)
        out += sse_data(chunk(e.index, {{"content", ""}}, lp, nullptr));
      for (const ReplyEvent& event : events) {
        out += sse_data(chunk(e.index, delta(c, event), lp, nullptr));
        lp = nullptr;  // once per token
      }
      return out;
    }
    c.end = e.result;
    auto events = c.parser.finish();
    if (!stream_) {
      absorb(c, events);
      return out;
    }
    out += start(e.index, c);
    if (failed(c.end))
      return out + sse_data(error_body(ApiStyle::openai, api_error_for(c.end.status)));
    for (const ReplyEvent& event : events)
      out += sse_data(chunk(e.index, delta(c, event), nullptr, nullptr));
    return out + sse_data(chunk(e.index, nlohmann::json::object(), nullptr, finish_reason(c)));
  }

  std::string finish() override {
    if (stream_) {
      std::string out;
      if (include_usage_) {
        nlohmann::json last = base("chat.completion.chunk");
        last["choices"] = nlohmann::json::array();
        last["usage"] = openai_usage(usage());
        out += sse_data(last);
      }
      out += kSseDone;
      return out;
    }
    for (const auto& c : choices_)
      if (failed(c.end))
        return json_text(error_body(ApiStyle::openai, api_error_for(c.end.status)));
    nlohmann::json body = base("chat.completion");
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < choices_.size(); ++i) {
      const ChoiceText& c = choices_[i];
      nlohmann::json lp = nullptr;
      if (logprobs_) lp = {{"content", c.logprobs}, {"refusal", nullptr}};
      nlohmann::json message = {{"role", "assistant"}, {"content", c.text}, {"refusal", nullptr}};
      if (!c.reasoning.empty()) message["reasoning_content"] = c.reasoning;
      if (!c.calls.empty()) {
        if (c.text.empty()) message["content"] = nullptr;  // as OpenAI answers a pure call
        nlohmann::json calls = nlohmann::json::array();
        for (const CallText& call : c.calls)
          calls.push_back({{"id", call.id},
                           {"type", "function"},
                           {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
        message["tool_calls"] = std::move(calls);
      }
      list.push_back({{"index", i},
                      {"message", std::move(message)},
                      {"logprobs", lp},
                      {"finish_reason", finish_reason(c)}});
    }
    body["choices"] = std::move(list);
    body["usage"] = openai_usage(usage());
    return json_text(body);
  }

 private:
  static bool failed(const ChoiceEnd& end) { return !end.status.ok(); }

  // "tool_calls" when the reply called a tool (and was not cut off by the length limit).
  static const char* finish_reason(const ChoiceText& c) {
    if (!c.calls.empty() && c.end.finish != FinishReason::length) return "tool_calls";
    return openai_finish_reason(c.end.finish);
  }

  // Whole replies: the parser's events accumulate into text, reasoning and calls.
  static void absorb(ChoiceText& c, const std::vector<ReplyEvent>& events) {
    for (const ReplyEvent& event : events) delta(c, event);
  }

  // One event as a chat.completion.chunk delta, as OpenAI streams tool calls: the first delta
  // of a call carries its index, id, type and name; the arguments follow in fragments.
  static nlohmann::json delta(ChoiceText& c, const ReplyEvent& event) {
    switch (event.kind) {
      case ReplyEvent::Kind::content:
        c.text += event.text;
        return {{"content", event.text}};
      case ReplyEvent::Kind::reasoning:
        c.reasoning += event.text;
        return {{"reasoning_content", event.text}};
      case ReplyEvent::Kind::call_start:
        c.calls.push_back({event.id, event.name, ""});
        return {{"tool_calls", nlohmann::json::array(
                                   {{{"index", event.index},
                                     {"id", event.id},
                                     {"type", "function"},
                                     {"function", {{"name", event.name}, {"arguments", ""}}}}})}};
      case ReplyEvent::Kind::call_arguments:
        if (event.index >= 0 && static_cast<size_t>(event.index) < c.calls.size())
          c.calls[static_cast<size_t>(event.index)].arguments += event.text;
        return {{"tool_calls",
                 nlohmann::json::array(
                     {{{"index", event.index}, {"function", {{"arguments", event.text}}}}})}};
    }
    return nlohmann::json::object();
  }

  nlohmann::json base(const char* object) const {
    return {{"id", id_},
            {"object", object},
            {"created", created_},
            {"model", model_},
            {"system_fingerprint", "infer-" + std::string(version())}};
  }

  // The first chunk of each choice carries the role, as OpenAI sends it.
  std::string start(int32_t index, ChoiceText& c) {
    if (c.started) return {};
    c.started = true;
    return sse_data(chunk(index, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
  }

  nlohmann::json chunk(int32_t index, nlohmann::json delta, nlohmann::json logprobs,
                       nlohmann::json finish) const {
    nlohmann::json c = base("chat.completion.chunk");
    c["choices"] = nlohmann::json::array({{{"index", index},
                                           {"delta", std::move(delta)},
                                           {"logprobs", std::move(logprobs)},
                                           {"finish_reason", std::move(finish)}}});
    if (include_usage_) c["usage"] = nullptr;  // every chunk but the last, per the API
    return c;
  }

  UsageTotals usage() const {
    UsageTotals u;
    for (const auto& c : choices_) {
      // One prompt for every choice: counted once, as OpenAI does.
      u.prompt_tokens =
          std::max(u.prompt_tokens, std::max(c.prompt_tokens, c.end.metrics.prompt_tokens));
      u.cached_tokens = std::max(u.cached_tokens, c.end.metrics.cached_prompt_tokens);
      u.completion_tokens += std::max(c.tokens, c.end.metrics.generated_tokens);
    }
    return u;
  }

  bool stream_;
  bool include_usage_;
  bool logprobs_;
  int top_logprobs_;
  std::string id_;
  int64_t created_;
  std::string model_;
  std::vector<ChoiceText> choices_;
};

}  // namespace

uint64_t choice_seed(const std::optional<uint64_t>& seed, size_t index) {
  return seed ? *seed + index : random_seed();
}

void handle_chat_completions(ServerState& state, const Req& req, Res& res) {
  const auto arrival = GenerationJob::Clock::now();
  state.require_model();
  ChatRequest request = parse_chat_request(parse_json_body(req.body), state.limits());
  keep_client_key_order(request.tools, req.body, /*anthropic=*/false);
  GenerateConfig config = request.sampling.config;
  auto messages = std::make_shared<const std::vector<Message>>(std::move(request.messages));
  const ChatPlan chat = plan_chat(state, messages, request.tools, config);
  const int64_t prompt_tokens = chat.prompt_tokens;
  config.max_tokens = fit_to_context(state, prompt_tokens, request.sampling.max_tokens,
                                     ApiStyle::openai, "messages");
  if (request.logprobs) config.logprobs = std::max(1, request.top_logprobs);

  std::vector<ChoicePlan> plans;
  for (int32_t i = 0; i < request.n; ++i) {
    GenerateConfig c = config;
    c.seed = choice_seed(request.sampling.seed, static_cast<size_t>(i));
    plans.push_back({.start = [start = chat.start, c](const Context& ctx) { return start(ctx, c); },
                     .max_tokens = c.max_tokens,
                     .prompt_tokens = prompt_tokens});
  }
  auto job = std::make_shared<GenerationJob>(state, std::move(plans), arrival);
  auto writer = std::make_shared<ChatWriter>(request, state.model_id, job->size(), chat.syntax);
  serve_job(res, std::move(job), std::move(writer),
            request.sampling.stream ? "text/event-stream" : "application/json");
}

}  // namespace inference::server
