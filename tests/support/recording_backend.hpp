// A test-only backend whose models emit a scripted token sequence and record what happened to
// their streams (how many tokens were pulled, whether the producer was released). Used to test
// the contract (registry, TokenStream, Context) without a real engine.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "inference/backend.hpp"

namespace inference::test {

/// Shared counters a test inspects after driving a stream.
struct StreamRecord {
  std::atomic<int> produced{0};  ///< Tokens handed out.
  std::atomic<int> released{0};  ///< Producers destroyed (slot freed).
  std::atomic<int> opened{0};    ///< Producers created.
};

class RecordingBackend : public Backend {
 public:
  RecordingBackend(std::string name, bool available,
                   std::vector<std::string> script = {"a", "b", "c"});
  std::string name() const override { return name_; }
  bool available() const override { return available_; }
  std::string unavailable_reason() const override;
  std::unique_ptr<TextModel> load_model(const std::filesystem::path& path,
                                        const LoadConfig& config) override;

  std::shared_ptr<StreamRecord> record() const { return record_; }
  /// If set, load_model throws Error(invalid_model) for this path.
  std::string fail_path;

 private:
  std::string name_;
  bool available_;
  std::vector<std::string> script_;
  std::shared_ptr<StreamRecord> record_ = std::make_shared<StreamRecord>();
};

}  // namespace inference::test
