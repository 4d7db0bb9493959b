// Fuzz target: the server's request parsing on arbitrary bodies. The first byte picks the
// endpoint (chat, completions, messages, count_tokens, /completion, /tokenize, /detokenize,
// /apply-template); the rest is the body. Tool fields (tools, tool_choice, tool history) are
// parsed with the chat and messages bodies. A body is accepted or rejected with an ApiError (a
// 400 naming the field); nothing else may escape, crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/api_error.hpp"
#include "server/json_fields.hpp"
#include "server/request_parsing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::server;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParseLimits limits;
  limits.vocab_size = 50000;
  try {
    const json request = parse_json_body(body);
    switch (data[0] % 8) {
      case 0: {
        ChatRequest r = parse_chat_request(request, limits);
        keep_client_key_order(r.tools, body, /*anthropic=*/false);
        break;
      }
      case 1:
        (void)parse_completion_request(request, limits);
        break;
      case 2: {
        MessagesRequest r = parse_messages_request(request, limits);
        keep_client_key_order(r.tools, body, /*anthropic=*/true);
        break;
      }
      case 3:
        (void)parse_messages_request(request, limits, /*count_tokens_only=*/true);
        break;
      case 4:
        (void)parse_llama_completion_request(request, limits);
        break;
      case 5:
        (void)parse_tokenize_request(request);
        break;
      case 6:
        (void)parse_detokenize_request(request, limits);
        break;
      default:
        (void)parse_template_request(request);
        break;
    }
  } catch (const ApiError& e) {
    if (e.status() != 400) __builtin_trap();  // parsing only ever rejects with a 400
  }
  return 0;
}
