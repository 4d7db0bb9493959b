#include "server/prompt_budget.hpp"

#include <limits>

namespace inference::server {

int64_t count_chat_tokens(const ServerState& state, std::span<const Message> messages) {
  if (!state.tokenizer) return -1;
  std::string rendered;
  try {
    rendered = state.tokenizer->apply_chat_template(messages, /*add_generation_prompt=*/true);
  } catch (const Error& e) {
    throw ApiError(
        400, std::string("cannot format the messages with the model's chat template: ") + e.what(),
        "messages");
  }
  return count_rendered_chat_tokens(state, rendered);
}

int64_t count_rendered_chat_tokens(const ServerState& state, const std::string& rendered) {
  if (!state.tokenizer) return -1;
  // Templates usually write BOS themselves; the tokenizer then must not add another
  // (native/chat_prompt.cpp does the same).
  const std::string bos = state.tokenizer->decode(state.tokenizer->encode("", true, false));
  const bool has_bos = !bos.empty() && rendered.starts_with(bos);
  return static_cast<int64_t>(
      state.tokenizer->encode(rendered, /*add_special=*/!has_bos, /*parse_special=*/true).size());
}

int64_t count_text_tokens(const ServerState& state, const std::string& text) {
  if (!state.tokenizer) return -1;
  return static_cast<int64_t>(state.tokenizer->encode(text, true, false).size());
}

int32_t fit_to_context(const ServerState& state, int64_t prompt_tokens,
                       std::optional<int64_t> requested, ApiStyle style,
                       const std::string& prompt_param) {
  const int64_t ctx = state.info.context_length;
  if (prompt_tokens < 0 || ctx <= 0) {
    // Nothing to check against: the backend stops at its own context.
    return requested ? static_cast<int32_t>(*requested) : 0;
  }
  const int64_t completion = requested.value_or(0);
  // The last prompt position must leave room for at least one generated token.
  const bool over = prompt_tokens >= ctx || (requested && prompt_tokens + completion > ctx);
  if (over) {
    const std::string p = std::to_string(prompt_tokens), c = std::to_string(completion),
                      n = std::to_string(ctx);
    if (style == ApiStyle::anthropic)
      throw ApiError(400,
                     "input length and `max_tokens` exceed context limit: " + p + " + " + c +
                         " > " + n + ", decrease input length or `max_tokens` and try again",
                     prompt_param, "context_length_exceeded");
    throw ApiError(
        400,
        "This model's maximum context length is " + n + " tokens. However, you requested " +
            std::to_string(prompt_tokens + completion) + " tokens (" + p + " in the prompt, " + c +
            " for the completion). Please reduce the length of the prompt or the "
            "completion (max_tokens).",
        prompt_param, "context_length_exceeded");
  }
  return static_cast<int32_t>(requested ? completion : ctx - prompt_tokens);
}

}  // namespace inference::server
