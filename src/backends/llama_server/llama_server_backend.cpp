// The `llama_server` backend: runs llama.cpp's llama-server as a child process for the model
// file (for the architectures and GPU builds llama.cpp has). Available when a server binary is
// found. Registered by being linked in (this is an OBJECT library).
#include <filesystem>
#include <sstream>

#include "backends/llama_server/find_server_binary.hpp"
#include "backends/llama_server/llama_server_model.hpp"
#include "backends/remote/load_options.hpp"
#include "formats/model_summary.hpp"
#include "inference/backend.hpp"
#include "inference/log.hpp"

namespace inference::llama_server {
namespace {

std::vector<std::string> server_args(const std::filesystem::path& path, const LoadConfig& c) {
  std::vector<std::string> args = {"-m", path.string()};
  if (c.context_length > 0) args.insert(args.end(), {"-c", std::to_string(c.context_length)});
  args.insert(args.end(), {"-np", std::to_string(c.parallel_slots)});
  if (c.threads > 0) args.insert(args.end(), {"-t", std::to_string(c.threads)});
  // -1 (all layers) is llama-server's own default; only an explicit count is passed.
  if (c.gpu_layers >= 0) args.insert(args.end(), {"-ngl", std::to_string(c.gpu_layers)});
  if (!c.adapter_path.empty()) args.insert(args.end(), {"--lora", c.adapter_path});
  for (const auto& a : c.adapters) {
    if (a.scale == 1.0f)
      args.insert(args.end(), {"--lora", a.path});
    else
      args.insert(args.end(), {"--lora-scaled", a.path, std::to_string(a.scale)});
  }
  if (!c.kv_cache_type.empty())
    args.insert(args.end(), {"--cache-type-k", c.kv_cache_type, "--cache-type-v", c.kv_cache_type});
  if (auto it = c.options.find("extra_args"); it != c.options.end()) {
    std::istringstream words(it->second);
    for (std::string w; words >> w;) args.push_back(w);
  }
  return args;
}

ModelInfo model_info(const std::filesystem::path& path, const LoadConfig& c) {
  ModelInfo info;
  info.backend = "llama_server";
  info.name = path.stem().string();
  info.context_length = c.context_length;
  try {
    auto s = formats::summarize_model(path);
    info.architecture = s.architecture;
    if (!s.name.empty()) info.name = s.name;
    info.quantization = s.file_type;
    info.vocab_size = s.vocab_size;
    info.n_layers = s.n_layers;
    info.hidden_size = s.n_embd;
    info.n_heads = s.n_heads;
    info.n_kv_heads = s.n_kv_heads;
    info.train_context_length = s.context_length;
    info.parameter_count = s.parameter_count;
    info.file_size = s.size_bytes;
  } catch (const std::exception& e) {
    // llama.cpp may read files our parser does not; the server has the last word.
    log(LogLevel::warning, "llama_server: cannot read " + path.string() + ": " + e.what());
  }
  return info;
}

class LlamaServerBackend final : public Backend {
 public:
  std::string name() const override { return "llama_server"; }
  bool available() const override { return available_for({}); }
  std::string unavailable_reason() const override { return unavailable_reason_for({}); }
  // LoadConfig::executable counts: a program may name the binary instead of the environment.
  bool available_for(const LoadConfig& config) const override {
    return find_server_binary(config.executable, nullptr).has_value();
  }
  std::string unavailable_reason_for(const LoadConfig& config) const override {
    std::string why;
    return find_server_binary(config.executable, &why) ? "" : why;
  }
  std::unique_ptr<TextModel> load_model(const std::filesystem::path& path,
                                        const LoadConfig& config) override {
    if (config.parallel_slots < 1)
      throw Error(ErrorCode::invalid_argument,
                  "parallel_slots must be >= 1, got " + std::to_string(config.parallel_slots));
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw Error(ErrorCode::not_found, "no such model file: " + path.string());
    std::string why;
    auto binary = find_server_binary(config.executable, &why);
    if (!binary) throw Error(ErrorCode::unavailable, why);
    SupervisorOptions o;
    o.executable = *binary;
    o.args = server_args(path, config);
    using std::chrono::milliseconds;
    o.startup_timeout =
        milliseconds(remote::int_option(config, "startup_timeout_ms", 120000, 1, 86'400'000));
    o.grace = milliseconds(remote::int_option(config, "grace_ms", 5000, 0, 600'000));
    o.start_attempts =
        static_cast<int32_t>(remote::int_option(config, "restart_attempts", 3, 1, 100));
    o.restart_backoff =
        milliseconds(remote::int_option(config, "restart_backoff_ms", 250, 0, 600'000));
    auto supervisor = std::make_shared<ServerSupervisor>(std::move(o));
    remote::read_call_options(config, supervisor->timeouts, supervisor->retry);
    return std::make_unique<LlamaServerModel>(supervisor, model_info(path, config),
                                              config.parallel_slots);
  }
};

const BackendRegistration kRegister{std::make_shared<LlamaServerBackend>()};

}  // namespace
}  // namespace inference::llama_server
