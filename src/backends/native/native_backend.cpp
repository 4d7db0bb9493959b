// The native backend: our own CPU engine for GGUF files and Safetensors directories. Always
// available. Registered by being linked in (this is an OBJECT library).
#include <string>

#include "backends/native/native_model.hpp"
#include "engine/engine.hpp"
#include "inference/backend.hpp"
#include "inference/error.hpp"

namespace inference::native {
namespace {

// options["chat_template"]: Jinja source replacing the model file's chat template, e.g. a
// tool-calling template for a file that has none (`infer serve --chat-template-file`).
std::string chat_template_option(const LoadConfig& config) {
  auto it = config.options.find("chat_template");
  return it == config.options.end() ? std::string() : it->second;
}

// A true/false option ("1"/"0" too); absent means false.
bool bool_option(const LoadConfig& config, const std::string& name, bool absent = false) {
  auto it = config.options.find(name);
  if (it == config.options.end()) return absent;
  if (it->second == "false" || it->second == "0") return false;
  if (it->second == "true" || it->second == "1") return true;
  throw Error(ErrorCode::invalid_argument,
              "option " + name + " must be true or false, got '" + it->second + "'");
}

class NativeBackend final : public Backend {
 public:
  std::string name() const override { return "native"; }
  bool available() const override { return true; }
  std::unique_ptr<TextModel> load_model(const std::filesystem::path& path,
                                        const LoadConfig& config) override {
    if (config.parallel_slots < 1)
      throw Error(ErrorCode::invalid_argument,
                  "parallel_slots must be >= 1, got " + std::to_string(config.parallel_slots));
    if (config.context_length < 0)
      throw Error(ErrorCode::invalid_argument,
                  "context_length must be >= 0, got " + std::to_string(config.context_length));
    engine::ModelLoadOptions options;
    options.context_length = config.context_length;
    options.n_sequences = config.parallel_slots;
    options.threads = config.threads;
    options.kv_cache_type = config.kv_cache_type;
    if (!config.adapter_path.empty()) options.adapters.push_back({config.adapter_path, 1.0f});
    options.adapters.insert(options.adapters.end(), config.adapters.begin(), config.adapters.end());
    options.merge_adapters = config.merge_adapters;
    // kv_prefault: the whole KV cache resident at load (`infer serve` sets it, so that its
    // resident memory is steady from the first request on). packed_weights: the weights also in
    // the prompt GEMM's panel form, for many concurrent streams (ModelLoadOptions).
    options.prefault_kv = bool_option(config, "kv_prefault");
    options.packed_weights = bool_option(config, "packed_weights");
    // huge_pages (default true): the weight matrices copied into huge pages (ModelLoadOptions).
    options.huge_page_weights = bool_option(config, "huge_pages", true);
    if (config.max_queued < 0)
      throw Error(ErrorCode::invalid_argument,
                  "max_queued must be >= 0, got " + std::to_string(config.max_queued));
    auto model =
        std::make_unique<NativeModel>(engine::Engine::load(path, options),
                                      generation::SchedulerOptions{.max_queued = config.max_queued},
                                      chat_template_option(config));
    model->set_training_source(path, config.threads);
    return model;
  }
};

const BackendRegistration kRegister{std::make_shared<NativeBackend>()};

}  // namespace
}  // namespace inference::native
