// POST /completion — llama-server's native completion: {content, tokens, stop, timings, …},
// streamed as `data: {…}` events (no [DONE]; the last event has "stop": true and the totals).
#include "server/endpoints.hpp"
#include "server/http_util.hpp"
#include "server/prompt_budget.hpp"
#include "server/response_format.hpp"
#include "server/sse.hpp"

namespace inference::server {

namespace {

double ms(std::chrono::nanoseconds d) {
  return static_cast<double>(d.count()) / 1e6;
}

nlohmann::json probability_entry(const Token& t) {
  nlohmann::json top = nlohmann::json::array();
  for (const TokenLogprob& alt : t.top_logprobs)
    top.push_back({{"id", alt.id},
                   {"token", alt.text},
                   {"bytes", utf8_bytes(alt.text)},
                   {"logprob", alt.logprob}});
  return {{"id", t.id},
          {"token", t.text},
          {"bytes", utf8_bytes(t.text)},
          {"logprob", t.logprob.value_or(0.0f)},
          {"top_logprobs", top}};
}

class LlamaWriter final : public JobWriter {
 public:
  LlamaWriter(const LlamaCompletionRequest& request, std::string model, std::string prompt)
      : stream_(request.sampling.stream),
        n_probs_(request.n_probs),
        return_tokens_(request.return_tokens),
        stops_(request.sampling.config.stop),
        max_tokens_(request.sampling.config.max_tokens),
        model_(std::move(model)),
        prompt_(std::move(prompt)) {}

  std::string on_event(JobEvent& e) override {
    prompt_tokens_ = std::max(prompt_tokens_, e.prompt_tokens);
    slot_ = e.slot;
    if (e.end) {
      end_ = e.result;
      return {};
    }
    ++predicted_;
    if (!stream_) {
      content_ += e.token.text;
      if (e.token.id >= 0) ids_.push_back(e.token.id);
      if (n_probs_ > 0 && e.token.logprob) probs_.push_back(probability_entry(e.token));
      return {};
    }
    nlohmann::json event = {
        {"index", 0},
        {"content", e.token.text},
        {"tokens", return_tokens_ && e.token.id >= 0 ? nlohmann::json::array({e.token.id})
                                                     : nlohmann::json::array()},
        {"stop", false},
        {"id_slot", slot_},
        {"tokens_predicted", predicted_},
        {"tokens_evaluated", prompt_tokens_}};
    if (n_probs_ > 0 && e.token.logprob)
      event["completion_probabilities"] = nlohmann::json::array({probability_entry(e.token)});
    return sse_data(event);
  }

  std::string finish() override {
    if (!end_.status.ok()) {
      const auto body = error_body(ApiStyle::llama, api_error_for(end_.status));
      return stream_ ? sse_data(body) : json_text(body);
    }
    const GenerateMetrics& m = end_.metrics;
    const int64_t predicted = std::max(predicted_, m.generated_tokens);
    nlohmann::json timings = {
        {"prompt_n", m.prompt_tokens},
        {"prompt_ms", ms(m.prefill_duration)},
        {"prompt_per_token_ms",
         m.prompt_tokens > 0 ? ms(m.prefill_duration) / static_cast<double>(m.prompt_tokens) : 0.0},
        {"prompt_per_second", m.prefill_tokens_per_second},
        {"predicted_n", predicted},
        {"predicted_ms", ms(m.decode_duration)},
        {"predicted_per_token_ms",
         predicted > 0 ? ms(m.decode_duration) / static_cast<double>(predicted) : 0.0},
        {"predicted_per_second", m.decode_tokens_per_second}};
    nlohmann::json body = {
        {"index", 0},
        {"content", stream_ ? "" : content_},
        {"tokens", stream_ || !return_tokens_ ? nlohmann::json::array() : nlohmann::json(ids_)},
        {"id_slot", slot_},
        {"stop", true},
        {"model", model_},
        {"tokens_predicted", predicted},
        {"tokens_evaluated", std::max(prompt_tokens_, m.prompt_tokens)},
        {"generation_settings", {{"n_predict", max_tokens_ > 0 ? max_tokens_ : -1}}},
        {"prompt", prompt_},
        {"has_new_line", content_.find('\n') != std::string::npos},
        {"truncated", false},
        {"stop_type", llama_stop_type(end_.finish)},
        {"stopping_word", stopping_word()},
        {"tokens_cached", m.cached_prompt_tokens},
        {"timings", timings}};
    if (!stream_ && n_probs_ > 0) body["completion_probabilities"] = probs_;
    return stream_ ? sse_data(body) : json_text(body);
  }

 private:
  // llama-server's name for the stop string that ended the generation ("" if none did).
  std::string stopping_word() const {
    if (end_.finish != FinishReason::stop) return "";
    if (!end_.metrics.stop_string.empty()) return end_.metrics.stop_string;
    return stops_.size() == 1 ? stops_[0] : "";
  }

  bool stream_;
  int32_t n_probs_;
  bool return_tokens_;
  std::vector<std::string> stops_;
  int32_t max_tokens_;
  std::string model_;
  std::string prompt_;
  int32_t slot_ = 0;
  std::string content_;
  std::vector<int32_t> ids_;
  nlohmann::json probs_ = nlohmann::json::array();
  int64_t prompt_tokens_ = 0;
  int64_t predicted_ = 0;
  ChoiceEnd end_;
};

}  // namespace

void handle_llama_completion(ServerState& state, const Req& req, Res& res) {
  const auto arrival = GenerationJob::Clock::now();
  TextModel& model = state.require_model();
  LlamaCompletionRequest request =
      parse_llama_completion_request(parse_json_body(req.body), state.limits());
  auto prompt = std::make_shared<const PromptInput>(request.prompt);
  int64_t prompt_tokens = -1;
  if (prompt->is_tokens) {
    if (!state.token_prompt)
      throw bad_field("prompt",
                      "this backend cannot generate from token ids; send the prompt as text");
    prompt_tokens = static_cast<int64_t>(prompt->ids.size());
  } else {
    prompt_tokens = count_text_tokens(state, prompt->text);
    if (prompt_tokens == 0) throw bad_field("prompt", "'prompt' is empty: it encodes to no tokens");
  }
  GenerateConfig c = request.sampling.config;
  c.max_tokens =
      fit_to_context(state, prompt_tokens, request.sampling.max_tokens, ApiStyle::llama, "prompt");
  c.seed = choice_seed(request.sampling.seed, 0);
  if (request.n_probs > 0) c.logprobs = request.n_probs;
  request.sampling.config.max_tokens = c.max_tokens;

  ChoicePlan plan{.max_tokens = c.max_tokens, .prompt_tokens = prompt_tokens};
  if (request.sampling.max_tokens.value_or(1) > 0) {
    TokenPromptModel* direct = state.token_prompt;
    plan.start = [&model, direct, prompt, c](const Context& ctx) {
      return prompt->is_tokens ? direct->generate_tokens(ctx, prompt->ids, c)
                               : model.generate(ctx, prompt->text, c);
    };
  }
  std::vector<ChoicePlan> plans;
  plans.push_back(std::move(plan));
  auto job = std::make_shared<GenerationJob>(state, std::move(plans), arrival);
  auto writer = std::make_shared<LlamaWriter>(request, state.model_id, prompt->text);
  serve_job(res, std::move(job), std::move(writer),
            request.sampling.stream ? "text/event-stream" : "application/json");
}

}  // namespace inference::server
