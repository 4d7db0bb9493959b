// backends/remote/model_support.hpp — the parts of a TextModel that every remote backend
// (http, llama_server) has in common: the last request's metrics and status, the streamed
// request a generation starts, and classify / batch_generate as many requests in flight.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "backends/remote/remote_stream.hpp"
#include "inference/text_model.hpp"

namespace inference::remote {

/// What TextModel::metrics() and err() report: the last finished stream's. Copies share the
/// record, so a stream that outlives its model still has somewhere to write. Thread-safe.
class LastRequest {
 public:
  /// For StreamRequest::on_finish.
  std::function<void(const GenerateMetrics&, const Status&)> recorder() const;
  GenerateMetrics metrics() const;
  Status status() const;

 private:
  struct Record {
    std::mutex mutex;
    GenerateMetrics metrics;
    Status status;
  };
  std::shared_ptr<Record> record_ = std::make_shared<Record>();
};

/// An SSE request to `path`: events decoded by `decode`, config.max_tokens enforced here too,
/// the outcome recorded in `last`. Callers add stop_tokens where the protocol carries ids.
StreamRequest stream_request(const std::string& path, std::string body,
                             const GenerateConfig& config, ChunkDecoder decode,
                             const LastRequest& last);

/// classify() of a remote backend: next_token(i) asks the server for prompt i's next token;
/// `concurrency` prompts in flight; an error of one prompt is that prompt's status.
std::vector<ClassifyResult> classify_each(size_t count, size_t concurrency,
                                          const std::function<Token(size_t)>& next_token);

/// batch_generate() of a remote backend: one stream per prompt, `concurrency` at once; a
/// prompt's error (partial text kept) is its status.
std::vector<BatchResult> generate_each(
    std::span<const std::string> prompts, size_t concurrency,
    const std::function<TokenStream(const std::string&)>& generate);

}  // namespace inference::remote
