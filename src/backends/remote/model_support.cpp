#include "backends/remote/model_support.hpp"

#include "backends/remote/parallel_for.hpp"
#include "inference/error.hpp"

namespace inference::remote {

std::function<void(const GenerateMetrics&, const Status&)> LastRequest::recorder() const {
  return [record = record_](const GenerateMetrics& m, const Status& s) {
    std::lock_guard lock(record->mutex);
    record->metrics = m;
    record->status = s;
  };
}

GenerateMetrics LastRequest::metrics() const {
  std::lock_guard lock(record_->mutex);
  return record_->metrics;
}

Status LastRequest::status() const {
  std::lock_guard lock(record_->mutex);
  return record_->status;
}

StreamRequest stream_request(const std::string& path, std::string body,
                             const GenerateConfig& config, ChunkDecoder decode,
                             const LastRequest& last) {
  StreamRequest request;
  request.http.path = path;
  request.http.body = std::move(body);
  request.http.headers.emplace_back("Accept", "text/event-stream");
  request.decode = std::move(decode);
  request.max_tokens = config.max_tokens;
  request.on_finish = last.recorder();
  return request;
}

std::vector<ClassifyResult> classify_each(size_t count, size_t concurrency,
                                          const std::function<Token(size_t)>& next_token) {
  std::vector<ClassifyResult> results(count);
  parallel_for(count, concurrency, [&](size_t i) {
    try {
      results[i].token = next_token(i);
    } catch (const Error& e) {
      results[i].status = e.status();
    } catch (const std::exception& e) {
      results[i].status = {ErrorCode::backend, e.what()};
    }
  });
  return results;
}

std::vector<BatchResult> generate_each(
    std::span<const std::string> prompts, size_t concurrency,
    const std::function<TokenStream(const std::string&)>& generate) {
  std::vector<BatchResult> results(prompts.size());
  parallel_for(prompts.size(), concurrency, [&](size_t i) {
    auto stream = generate(prompts[i]);
    for (const Token& t : stream) {
      results[i].text += t.text;
      results[i].tokens.push_back(t);
    }
    results[i].status = stream.err();
  });
  return results;
}

}  // namespace inference::remote
