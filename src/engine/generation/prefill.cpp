#include "engine/generation/prefill.hpp"

#include <string>

#include "inference/error.hpp"

namespace inference::generation {

void check_prompt(std::span<const int32_t> tokens, int32_t n_vocab, int32_t context_length) {
  if (tokens.empty())
    throw Error(ErrorCode::invalid_argument, "the prompt is empty (it encodes to no tokens)");
  const auto n = static_cast<int64_t>(tokens.size());
  if (n >= context_length)
    throw Error(ErrorCode::invalid_argument,
                "the prompt has " + std::to_string(n) + " tokens but the context holds " +
                    std::to_string(context_length) +
                    " (leave room for the reply, or load with a larger context length)");
  for (int32_t id : tokens) {
    if (id < 0 || id >= n_vocab)
      throw Error(ErrorCode::invalid_argument, "prompt token id " + std::to_string(id) +
                                                   " is outside the vocabulary [0, " +
                                                   std::to_string(n_vocab) + ")");
  }
}

void check_prompt(const engine::Engine& engine, std::span<const int32_t> tokens) {
  check_prompt(tokens, engine.n_vocab(), engine.context_length());
}

}  // namespace inference::generation
