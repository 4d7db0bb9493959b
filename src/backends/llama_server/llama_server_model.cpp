#include "backends/llama_server/llama_server_model.hpp"

#include "backends/remote/llamacpp_protocol.hpp"
#include "backends/remote/openai_protocol.hpp"
#include "backends/remote/remote_call.hpp"
#include "backends/remote/remote_stream.hpp"

namespace inference::llama_server {

using nlohmann::json;

LlamaServerModel::LlamaServerModel(std::shared_ptr<ServerSupervisor> supervisor, ModelInfo info,
                                   int32_t concurrency)
    : supervisor_(std::move(supervisor)), info_(std::move(info)), concurrency_(concurrency) {
  supervisor_->start_now(Context::background());
  // The context the server really runs with (llama-server's /props), best effort.
  try {
    net::HttpRequest props;
    props.method = "GET";
    props.path = "/props";
    json p = remote::call_json(Context::background().with_timeout(std::chrono::seconds(10)),
                               *supervisor_, props);
    if (p.contains("default_generation_settings") &&
        p["default_generation_settings"].contains("n_ctx"))
      info_.context_length = p["default_generation_settings"]["n_ctx"].get<int64_t>();
    else if (p.contains("n_ctx") && p["n_ctx"].is_number())
      info_.context_length = p["n_ctx"].get<int64_t>();
  } catch (const std::exception&) {
    // A server without /props still works; context_length stays as configured.
  }
}

LlamaServerModel::~LlamaServerModel() {
  close();
}

void LlamaServerModel::close() {
  if (closed_.exchange(true)) return;
  supervisor_->shutdown();
}

void LlamaServerModel::check_open() const {
  if (closed_.load()) throw Error(ErrorCode::unavailable, "the model was closed");
}

TokenStream LlamaServerModel::start(const Context& ctx, const std::string& path,
                                    const std::string& body, const GenerateConfig& config,
                                    remote::ChunkDecoder decode, bool ids_known) {
  auto request = remote::stream_request(path, body, config, std::move(decode), last_);
  if (ids_known) request.stop_tokens = config.stop_tokens;
  return remote::start_remote_stream(ctx, supervisor_, std::move(request));
}

TokenStream LlamaServerModel::generate(const Context& ctx, std::string_view prompt,
                                       const GenerateConfig& config) {
  try {
    check_open();
    return start(ctx, "/completion",
                 remote::llamacpp::completion_request(prompt, config, /*stream=*/true).dump(),
                 config, remote::llamacpp::decode_event, /*ids_known=*/true);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

TokenStream LlamaServerModel::chat(const Context& ctx, std::span<const Message> messages,
                                   const GenerateConfig& config) {
  try {
    check_open();
    if (!config.stop_tokens.empty())
      throw Error(ErrorCode::unsupported,
                  "stop_tokens: llama-server's chat stream carries no token ids; use stop strings");
    json body = remote::openai::chat_request(info_.name, messages, config);
    // llama-server's own defaults (top_k 40, min_p 0.05, …) are not ours: send every field.
    json native = remote::llamacpp::completion_request("", config, true);
    for (const char* key : {"top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n",
                            "presence_penalty", "frequency_penalty", "seed", "n_probs", "lora"})
      if (native.contains(key)) body[key] = native[key];
    body.erase("repetition_penalty");
    return start(ctx, "/v1/chat/completions", body.dump(), config, remote::openai::decode_event,
                 /*ids_known=*/false);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

std::vector<ClassifyResult> LlamaServerModel::classify(const Context& ctx,
                                                       std::span<const std::string> prompts,
                                                       const GenerateConfig& config) {
  check_open();
  if (config.return_logits)
    throw Error(ErrorCode::unsupported,
                "return_logits: llama-server returns n_probs alternatives, not the logits row");
  GenerateConfig one = config;
  one.max_tokens = 1;
  one.logprobs = std::max(1, config.logprobs);
  return remote::classify_each(prompts.size(), static_cast<size_t>(concurrency_), [&](size_t i) {
    net::HttpRequest req;
    req.path = "/completion";
    req.body = remote::llamacpp::completion_request(prompts[i], one, false).dump();
    auto tokens = remote::llamacpp::tokens_of(remote::call_json(ctx, *supervisor_, req));
    if (tokens.empty())
      throw Error(ErrorCode::backend, "llama-server returned no token for classify");
    Token token = tokens.front();
    for (size_t k = 1; k < tokens.size(); ++k) token.text += tokens[k].text;
    return token;
  });
}

std::vector<BatchResult> LlamaServerModel::batch_generate(const Context& ctx,
                                                          std::span<const std::string> prompts,
                                                          const GenerateConfig& config) {
  check_open();
  return remote::generate_each(prompts, static_cast<size_t>(concurrency_),
                               [&](const std::string& p) { return generate(ctx, p, config); });
}

TokenStream LlamaServerModel::generate_tokens(const Context& ctx, std::span<const int32_t> prompt,
                                              const GenerateConfig& config) {
  try {
    check_open();
    json body = remote::llamacpp::completion_request("", config, /*stream=*/true);
    body["prompt"] = std::vector<int32_t>(prompt.begin(), prompt.end());
    return start(ctx, "/completion", body.dump(), config, remote::llamacpp::decode_event,
                 /*ids_known=*/true);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

namespace {

json post_json(remote::EndpointSource& source, const std::string& path, const json& body) {
  net::HttpRequest req;
  req.path = path;
  req.body = body.dump();
  return remote::call_json(Context::background(), source, req);
}

}  // namespace

std::vector<int32_t> LlamaServerModel::encode(std::string_view text, bool add_special,
                                              bool parse_special) const {
  check_open();
  json r = post_json(*supervisor_, "/tokenize",
                     {{"content", std::string(text)},
                      {"add_special", add_special},
                      {"parse_special", parse_special}});
  std::vector<int32_t> ids;
  for (const auto& t : r.at("tokens"))
    ids.push_back(t.is_object() ? t.at("id").get<int32_t>() : t.get<int32_t>());
  return ids;
}

std::string LlamaServerModel::decode(std::span<const int32_t> ids) const {
  check_open();
  json r = post_json(*supervisor_, "/detokenize",
                     {{"tokens", std::vector<int32_t>(ids.begin(), ids.end())}});
  return r.at("content").get<std::string>();
}

std::string LlamaServerModel::token_text(int32_t id) const {
  if (info_.vocab_size > 0 && (id < 0 || id >= info_.vocab_size))
    throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(id) +
                                                 " is outside the vocabulary [0, " +
                                                 std::to_string(info_.vocab_size) + ")");
  int32_t one[] = {id};
  return decode(one);
}

std::string LlamaServerModel::apply_chat_template(std::span<const Message> messages,
                                                  bool add_generation_prompt) const {
  check_open();
  if (!add_generation_prompt)
    throw Error(ErrorCode::unsupported,
                "llama-server's /apply-template always adds the generation prompt");
  json list = json::array();
  for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  return post_json(*supervisor_, "/apply-template", {{"messages", list}}).at("prompt");
}

GenerateMetrics LlamaServerModel::metrics() const {
  return last_.metrics();
}

Status LlamaServerModel::err() const {
  return last_.status();
}

}  // namespace inference::llama_server
