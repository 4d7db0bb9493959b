// backends/native/token_prompt_model.hpp — optional capability: generate from token ids.
//
// `infer run --tokens 1,2,3` and verification tools feed exact ids, which a text prompt cannot
// express. Header-only (no key function), so a consumer can dynamic_cast to it without linking
// the native backend. Candidate for include/inference/capabilities.hpp.
#pragma once

#include <cstdint>
#include <span>

#include "inference/context.hpp"
#include "inference/token_stream.hpp"
#include "inference/types.hpp"

namespace inference {

class TokenPromptModel {
 public:
  virtual ~TokenPromptModel() = default;
  /// Streams a continuation of exactly these ids (no BOS is added). Errors end the stream.
  virtual TokenStream generate_tokens(const Context& ctx, std::span<const int32_t> prompt,
                                      const GenerateConfig& config = {}) = 0;
};

}  // namespace inference
