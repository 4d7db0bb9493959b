// backends/remote/chunk_update.hpp — what one streamed server event contributes to a
// TokenStream, independent of the wire protocol that carried it.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "inference/error.hpp"
#include "inference/types.hpp"
#include "net/sse_parser.hpp"

namespace inference::remote {

/// Counts and timings a server reported (OpenAI `usage`, llama.cpp `timings`, Anthropic
/// `usage`); each field is set only when the server said it.
struct ServerUsage {
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> generated_tokens;
  std::optional<int64_t> cached_tokens;
  std::optional<double> prompt_ms;
  std::optional<double> generation_ms;

  /// Takes every field `other` has.
  void merge(const ServerUsage& other);
  /// Reads `usage` and llama.cpp `timings` members of `chunk`, where present.
  void read_from(const nlohmann::json& chunk);
};

struct ChunkUpdate {
  std::vector<Token> tokens;
  FinishReason finish = FinishReason::none;  ///< the server said why generation ended
  bool done = false;                         ///< the terminal event: stop reading
  Status error;                              ///< an error event from the server
  ServerUsage usage;
};

/// Turns one event into an update; throws (nlohmann::json errors, Error) on malformed input.
using ChunkDecoder = std::function<void(const net::SseEvent&, ChunkUpdate&)>;

/// Splits `text` into one Token per logprob entry when the entries spell it exactly (so
/// per-token logprobs line up); otherwise one Token carrying all of it.
void append_text_tokens(const std::string& text, std::vector<Token> pieces,
                        std::vector<Token>& out);

}  // namespace inference::remote
