// POST /v1/completions — the legacy text_completion objects (also streamed, ending in
// `data: [DONE]`), with echo and the legacy logprobs shape {tokens, token_logprobs,
// top_logprobs, text_offset}. Several prompts give prompts x n choices, prompt-major.
#include <cmath>

#include "inference/version.hpp"
#include "server/endpoints.hpp"
#include "server/http_util.hpp"
#include "server/prompt_budget.hpp"
#include "server/response_format.hpp"
#include "server/sse.hpp"

namespace inference::server {

namespace {

struct LegacyLogprobs {
  nlohmann::json tokens = nlohmann::json::array();
  nlohmann::json token_logprobs = nlohmann::json::array();
  nlohmann::json top_logprobs = nlohmann::json::array();
  nlohmann::json text_offset = nlohmann::json::array();

  void add(const Token& t, int top, size_t offset) {
    tokens.push_back(t.text);
    token_logprobs.push_back(t.logprob.value_or(0.0f));
    nlohmann::json alternatives = nlohmann::json::object();
    for (size_t i = 0; i < t.top_logprobs.size() && static_cast<int>(i) < top; ++i)
      alternatives[t.top_logprobs[i].text] = t.top_logprobs[i].logprob;
    top_logprobs.push_back(std::move(alternatives));
    text_offset.push_back(offset);
  }
  nlohmann::json to_json() const {
    return {{"tokens", tokens},
            {"token_logprobs", token_logprobs},
            {"top_logprobs", top_logprobs},
            {"text_offset", text_offset}};
  }
};

struct CompletionChoice {
  std::string echo;  // the prompt text, when echo
  std::string text;
  LegacyLogprobs logprobs;
  bool started = false;
  ChoiceEnd end;
  int64_t prompt_tokens = 0;
  int64_t tokens = 0;
};

class CompletionWriter final : public JobWriter {
 public:
  CompletionWriter(const CompletionRequest& request, std::string model,
                   std::vector<std::string> echoes)
      : stream_(request.sampling.stream),
        include_usage_(request.include_usage),
        logprobs_(request.logprobs),
        n_(request.n),
        id_("cmpl-" + random_id()),
        created_(unix_now()),
        model_(std::move(model)),
        choices_(echoes.size()) {
    for (size_t i = 0; i < echoes.size(); ++i) choices_[i].echo = std::move(echoes[i]);
  }

  std::string on_event(JobEvent& e) override {
    CompletionChoice& c = choices_[static_cast<size_t>(e.index)];
    c.prompt_tokens = e.prompt_tokens;
    std::string out;
    if (stream_ && !c.started) {
      c.started = true;
      if (!c.echo.empty()) out += sse_data(chunk(e.index, c.echo, nullptr, nullptr));
    }
    if (!e.end) {
      ++c.tokens;
      const bool has_logprob = logprobs_ && e.token.logprob.has_value();
      if (e.token.text.empty() && !has_logprob) return out;
      const size_t offset = c.echo.size() + c.text.size();
      c.text += e.token.text;
      if (!stream_) {
        if (has_logprob) c.logprobs.add(e.token, *logprobs_, offset);
        return out;
      }
      nlohmann::json lp = nullptr;
      if (has_logprob) {
        LegacyLogprobs one;
        one.add(e.token, *logprobs_, offset);
        lp = one.to_json();
      }
      return out + sse_data(chunk(e.index, e.token.text, lp, nullptr));
    }
    c.end = e.result;
    if (!stream_) return out;
    if (!c.end.status.ok())
      return out + sse_data(error_body(ApiStyle::openai, api_error_for(c.end.status)));
    return out + sse_data(chunk(e.index, "", nullptr, openai_finish_reason(c.end.finish)));
  }

  std::string finish() override {
    if (stream_) {
      std::string out;
      if (include_usage_) {
        nlohmann::json last = base();
        last["choices"] = nlohmann::json::array();
        last["usage"] = openai_usage(usage());
        out += sse_data(last);
      }
      return out + std::string(kSseDone);
    }
    for (const auto& c : choices_)
      if (!c.end.status.ok())
        return json_text(error_body(ApiStyle::openai, api_error_for(c.end.status)));
    nlohmann::json body = base();
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < choices_.size(); ++i) {
      const CompletionChoice& c = choices_[i];
      list.push_back({{"text", c.echo + c.text},
                      {"index", i},
                      {"logprobs", logprobs_ ? c.logprobs.to_json() : nlohmann::json(nullptr)},
                      {"finish_reason", openai_finish_reason(c.end.finish)}});
    }
    body["choices"] = std::move(list);
    body["usage"] = openai_usage(usage());
    return json_text(body);
  }

 private:
  nlohmann::json base() const {
    return {{"id", id_},
            {"object", "text_completion"},
            {"created", created_},
            {"model", model_},
            {"system_fingerprint", "infer-" + std::string(version())}};
  }

  nlohmann::json chunk(int32_t index, const std::string& text, nlohmann::json logprobs,
                       nlohmann::json finish) const {
    nlohmann::json c = base();
    c["choices"] = nlohmann::json::array({{{"text", text},
                                           {"index", index},
                                           {"logprobs", std::move(logprobs)},
                                           {"finish_reason", std::move(finish)}}});
    if (include_usage_) c["usage"] = nullptr;
    return c;
  }

  UsageTotals usage() const {
    UsageTotals u;
    for (size_t i = 0; i < choices_.size(); ++i) {
      const CompletionChoice& c = choices_[i];
      // Each prompt counts once, however many choices it has.
      if (i % static_cast<size_t>(n_) == 0) {
        u.prompt_tokens += std::max(c.prompt_tokens, c.end.metrics.prompt_tokens);
        u.cached_tokens += c.end.metrics.cached_prompt_tokens;
      }
      u.completion_tokens += std::max(c.tokens, c.end.metrics.generated_tokens);
    }
    return u;
  }

  bool stream_;
  bool include_usage_;
  std::optional<int32_t> logprobs_;
  int32_t n_;
  std::string id_;
  int64_t created_;
  std::string model_;
  std::vector<CompletionChoice> choices_;
};

}  // namespace

void handle_completions(ServerState& state, const Req& req, Res& res) {
  const auto arrival = GenerationJob::Clock::now();
  TextModel& model = state.require_model();
  CompletionRequest request = parse_completion_request(parse_json_body(req.body), state.limits());
  GenerateConfig config = request.sampling.config;
  if (request.logprobs) config.logprobs = std::max(1, *request.logprobs);

  std::vector<ChoicePlan> plans;
  std::vector<std::string> echoes;
  for (size_t p = 0; p < request.prompts.size(); ++p) {
    auto prompt = std::make_shared<const PromptInput>(std::move(request.prompts[p]));
    const std::string param = request.prompts.size() == 1 ? "prompt" : index_path("prompt", p);
    int64_t prompt_tokens = -1;
    if (prompt->is_tokens) {
      if (!state.token_prompt)
        throw bad_field(param,
                        "this backend cannot generate from token ids; send the prompt as text");
      prompt_tokens = static_cast<int64_t>(prompt->ids.size());
    } else {
      prompt_tokens = count_text_tokens(state, prompt->text);
      if (prompt_tokens == 0)
        throw bad_field(param, "'" + param + "' is empty: it encodes to no tokens");
    }
    GenerateConfig c = config;
    c.max_tokens =
        fit_to_context(state, prompt_tokens, request.sampling.max_tokens, ApiStyle::openai, param);
    std::string echo;
    if (request.echo) {
      if (!prompt->is_tokens) {
        echo = prompt->text;
      } else if (state.tokenizer) {
        echo = state.tokenizer->decode(prompt->ids);
      } else {
        throw bad_field("echo", "'echo' of a token prompt needs a backend with a tokenizer");
      }
    }
    for (int32_t j = 0; j < request.n; ++j) {
      c.seed = choice_seed(request.sampling.seed, plans.size());
      ChoicePlan plan{.max_tokens = c.max_tokens, .prompt_tokens = prompt_tokens};
      if (request.sampling.max_tokens.value_or(1) > 0) {
        TokenPromptModel* direct = state.token_prompt;
        plan.start = [&model, direct, prompt, c](const Context& ctx) {
          return prompt->is_tokens ? direct->generate_tokens(ctx, prompt->ids, c)
                                   : model.generate(ctx, prompt->text, c);
        };
      }
      plans.push_back(std::move(plan));
      echoes.push_back(echo);
    }
  }
  auto job = std::make_shared<GenerationJob>(state, std::move(plans), arrival);
  auto writer = std::make_shared<CompletionWriter>(request, state.model_id, std::move(echoes));
  serve_job(res, std::move(job), std::move(writer),
            request.sampling.stream ? "text/event-stream" : "application/json");
}

}  // namespace inference::server
