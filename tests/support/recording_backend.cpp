#include "support/recording_backend.hpp"

#include <thread>

namespace inference::test {
namespace {

// Emits the script one token per pull; honours cancellation and max_tokens; an item "!error"
// ends the stream with a backend error. A "~" item sleeps 20 ms first (slow producer).
class ScriptSource : public TokenSource {
 public:
  ScriptSource(Context ctx, std::vector<std::string> script, GenerateConfig config,
               std::shared_ptr<StreamRecord> record)
      : ctx_(std::move(ctx)),
        script_(std::move(script)),
        config_(std::move(config)),
        record_(std::move(record)) {
    record_->opened++;
  }
  ~ScriptSource() override { record_->released++; }

  bool next(Token& out) override {
    if (ctx_.cancelled()) {
      status_ = ctx_.status();
      return false;
    }
    if (index_ >= script_.size()) return false;
    if (config_.max_tokens > 0 && static_cast<int>(index_) >= config_.max_tokens) return false;
    const auto& item = script_[index_];
    if (item == "!error") {
      status_ = {ErrorCode::backend, "scripted failure"};
      return false;
    }
    if (item == "~") std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out.id = static_cast<int32_t>(index_);
    out.text = item;
    ++index_;
    record_->produced++;
    return true;
  }
  Status status() const override { return status_; }

 private:
  Context ctx_;
  std::vector<std::string> script_;
  GenerateConfig config_;
  std::shared_ptr<StreamRecord> record_;
  size_t index_ = 0;
  Status status_;
};

class ScriptModel : public TextModel {
 public:
  ScriptModel(std::vector<std::string> script, std::shared_ptr<StreamRecord> record)
      : script_(std::move(script)), record_(std::move(record)) {}

  TokenStream generate(const Context& ctx, std::string_view,
                       const GenerateConfig& config) override {
    return TokenStream(std::make_unique<ScriptSource>(ctx, script_, config, record_));
  }
  TokenStream chat(const Context& ctx, std::span<const Message>,
                   const GenerateConfig& config) override {
    return generate(ctx, "", config);
  }
  std::vector<ClassifyResult> classify(const Context&, std::span<const std::string> prompts,
                                       const GenerateConfig&) override {
    std::vector<ClassifyResult> results(prompts.size());
    for (auto& r : results) r.token = {0, script_.empty() ? "" : script_[0]};
    return results;
  }
  std::vector<BatchResult> batch_generate(const Context& ctx, std::span<const std::string> prompts,
                                          const GenerateConfig& config) override {
    std::vector<BatchResult> results;
    for (const auto& p : prompts) {
      BatchResult r;
      auto stream = generate(ctx, p, config);
      for (const auto& t : stream) {
        r.text += t.text;
        r.tokens.push_back(t);
      }
      r.status = stream.err();
      results.push_back(std::move(r));
    }
    return results;
  }
  std::string model_type() const override { return "script"; }
  ModelInfo info() const override { return {.architecture = "script", .backend = "recording"}; }
  GenerateMetrics metrics() const override { return {}; }
  Status err() const override { return {}; }
  void close() override {}

 private:
  std::vector<std::string> script_;
  std::shared_ptr<StreamRecord> record_;
};

}  // namespace

RecordingBackend::RecordingBackend(std::string name, bool available,
                                   std::vector<std::string> script)
    : name_(std::move(name)), available_(available), script_(std::move(script)) {}

std::string RecordingBackend::unavailable_reason() const {
  return available_ ? "" : "test backend marked unavailable";
}

std::unique_ptr<TextModel> RecordingBackend::load_model(const std::filesystem::path& path,
                                                        const LoadConfig&) {
  if (!fail_path.empty() && path == fail_path) {
    throw Error(ErrorCode::invalid_model, path.string() + ": scripted load failure");
  }
  return std::make_unique<ScriptModel>(script_, record_);
}

}  // namespace inference::test
