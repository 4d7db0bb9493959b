// A TextModel for tests whose chat() replies come from a script: canned JSON, malformed JSON,
// errors, slow replies. It counts calls and the most calls ever in flight at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "inference/text_model.hpp"

namespace inference::test {

struct ScriptedReply {
  std::string text;
  Status status;  ///< a stream error (after `text`)
  bool throw_unsupported_if_constrained = false;
  std::chrono::milliseconds delay{0};
};

class ScriptedJudge : public TextModel {
 public:
  using Script = std::function<ScriptedReply(const std::vector<Message>&, const GenerateConfig&)>;
  explicit ScriptedJudge(Script script) : script_(std::move(script)) {}

  TokenStream generate(const Context&, std::string_view, const GenerateConfig&) override;
  TokenStream chat(const Context& ctx, std::span<const Message> messages,
                   const GenerateConfig& config) override;
  std::vector<ClassifyResult> classify(const Context&, std::span<const std::string>,
                                       const GenerateConfig&) override;
  std::vector<BatchResult> batch_generate(const Context&, std::span<const std::string>,
                                          const GenerateConfig&) override;
  std::string model_type() const override { return "scripted"; }
  ModelInfo info() const override { return {.name = "scripted", .backend = "test"}; }
  GenerateMetrics metrics() const override { return {}; }
  Status err() const override { return {}; }
  void close() override {}

  std::atomic<int> calls{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> constrained_calls{0};

 private:
  Script script_;
};

}  // namespace inference::test
