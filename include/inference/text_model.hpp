// inference/text_model.hpp — the model interface every backend implements.
//
// A TextModel is created by a Backend (or inference::load_model) and owned by the caller through
// std::unique_ptr. Thread safety: generate/chat/classify/batch_generate may be called from
// several threads; a backend serialises or batches them internally (up to
// LoadConfig::parallel_slots concurrent sequences). info(), model_type() and metrics() are
// always safe. close() must not race with calls in progress on other threads.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inference/context.hpp"
#include "inference/token_stream.hpp"
#include "inference/types.hpp"

namespace inference {

class TextModel {
 public:
  virtual ~TextModel() = default;

  /// Streams a continuation of `prompt` (raw text; the backend adds BOS per the model's
  /// tokenizer rules). Errors, including cancellation of `ctx`, end the stream and show in
  /// TokenStream::err(); nothing is thrown once the stream exists.
  virtual TokenStream generate(const Context& ctx, std::string_view prompt,
                               const GenerateConfig& config = {}) = 0;

  /// Streams the assistant's reply to `messages`, formatted with the model's own chat template.
  virtual TokenStream chat(const Context& ctx, std::span<const Message> messages,
                           const GenerateConfig& config = {}) = 0;

  /// One prefill per prompt and the next token after it (plus the logits row when
  /// config.return_logits). Prompts are processed in batches; results are in prompt order and
  /// each carries its own status. Throws only for a failure of the whole call.
  virtual std::vector<ClassifyResult> classify(const Context& ctx,
                                               std::span<const std::string> prompts,
                                               const GenerateConfig& config = {}) = 0;

  /// Generates for every prompt (concurrently where the backend can); per-prompt results.
  virtual std::vector<BatchResult> batch_generate(const Context& ctx,
                                                  std::span<const std::string> prompts,
                                                  const GenerateConfig& config = {}) = 0;

  /// The architecture family, e.g. "gemma3", "llama", "qwen2".
  virtual std::string model_type() const = 0;
  /// Static facts about the model.
  virtual ModelInfo info() const = 0;
  /// Metrics of the last finished generation (token counts, durations, tok/s) and memory.
  virtual GenerateMetrics metrics() const = 0;
  /// The status of the last finished stream (parity with the Go design's Err(); prefer
  /// TokenStream::err()).
  virtual Status err() const = 0;
  /// Releases memory, threads and subprocesses now. Idempotent; later calls on the model fail
  /// with ErrorCode::unavailable. The destructor calls it.
  virtual void close() = 0;
};

}  // namespace inference
