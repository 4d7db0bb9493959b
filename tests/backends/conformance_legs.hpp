// The backends the conformance suite runs against, and how each is brought up: native in
// process; http against `infer serve`; llama_server with `infer serve` behind a llama-server
// command line (a wrapper script); llama_server against a real llama-server when one is found.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "inference/text_model.hpp"

namespace inference::test {

struct ConformanceLeg {
  std::string name;
  bool reports_ids = true;  ///< streamed tokens carry vocabulary ids (OpenAI streams do not)
};

/// Why the leg cannot run here ("" when it can).
std::string leg_skip_reason(const ConformanceLeg& leg);

/// A model of the leg for `model_path` with the given context length (0 = default). Servers
/// are started once per (leg, context) and shared by the tests; `fresh` loads a new one the
/// caller owns alone (close() tests).
std::shared_ptr<TextModel> leg_model(const ConformanceLeg& leg, const std::string& model_path,
                                     int32_t context_length, bool fresh = false);

}  // namespace inference::test
