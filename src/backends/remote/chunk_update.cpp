#include "backends/remote/chunk_update.hpp"

namespace inference::remote {
namespace {

std::optional<int64_t> int_field(const nlohmann::json& j, const char* name) {
  if (j.is_object() && j.contains(name) && j[name].is_number()) return j[name].get<int64_t>();
  return std::nullopt;
}
std::optional<double> double_field(const nlohmann::json& j, const char* name) {
  if (j.is_object() && j.contains(name) && j[name].is_number()) return j[name].get<double>();
  return std::nullopt;
}

}  // namespace

void ServerUsage::merge(const ServerUsage& o) {
  if (o.prompt_tokens) prompt_tokens = o.prompt_tokens;
  if (o.generated_tokens) generated_tokens = o.generated_tokens;
  if (o.cached_tokens) cached_tokens = o.cached_tokens;
  if (o.prompt_ms) prompt_ms = o.prompt_ms;
  if (o.generation_ms) generation_ms = o.generation_ms;
}

void ServerUsage::read_from(const nlohmann::json& chunk) {
  if (!chunk.is_object()) return;
  if (auto it = chunk.find("usage"); it != chunk.end() && it->is_object()) {
    const auto& u = *it;
    if (auto v = int_field(u, "prompt_tokens")) prompt_tokens = v;
    if (auto v = int_field(u, "completion_tokens")) generated_tokens = v;
    if (auto v = int_field(u, "input_tokens")) prompt_tokens = v;      // Anthropic
    if (auto v = int_field(u, "output_tokens")) generated_tokens = v;  // Anthropic
    if (auto d = u.find("prompt_tokens_details"); d != u.end())
      if (auto v = int_field(*d, "cached_tokens")) cached_tokens = v;
    if (auto v = int_field(u, "cache_read_input_tokens")) cached_tokens = v;
  }
  if (auto it = chunk.find("timings"); it != chunk.end() && it->is_object()) {
    const auto& t = *it;  // llama.cpp
    if (auto v = int_field(t, "prompt_n")) prompt_tokens = v;
    if (auto v = int_field(t, "predicted_n")) generated_tokens = v;
    if (auto v = int_field(t, "cache_n")) cached_tokens = v;
    if (auto v = double_field(t, "prompt_ms")) prompt_ms = v;
    if (auto v = double_field(t, "predicted_ms")) generation_ms = v;
  }
  if (auto v = int_field(chunk, "tokens_evaluated"); v && !prompt_tokens) prompt_tokens = v;
}

void append_text_tokens(const std::string& text, std::vector<Token> pieces,
                        std::vector<Token>& out) {
  std::string joined;
  for (const auto& p : pieces) joined += p.text;
  if (!pieces.empty() && joined == text) {
    for (auto& p : pieces) out.push_back(std::move(p));
    return;
  }
  if (text.empty()) return;
  Token t;
  t.text = text;
  if (pieces.size() == 1) {  // one logprob entry whose text differs (e.g. byte tokens)
    t.logprob = pieces[0].logprob;
    t.top_logprobs = std::move(pieces[0].top_logprobs);
  }
  out.push_back(std::move(t));
}

}  // namespace inference::remote
