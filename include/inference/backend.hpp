// inference/backend.hpp — backends and the process-wide registry.
//
// A backend library registers itself when it is linked into a program (a static
// BackendRegistration object in an OBJECT library), like the Go design's build-tagged init():
// an application gets a backend by linking it and nothing else. The registry is thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inference/text_model.hpp"
#include "inference/types.hpp"

namespace inference {

class Backend {
 public:
  virtual ~Backend() = default;
  /// Unique, stable, lowercase: "native", "cuda", "llama_server", "http".
  virtual std::string name() const = 0;
  /// Whether this backend can load models on this machine now (GPU present, binary found, …).
  virtual bool available() const = 0;
  /// When !available(): one line saying why (shown by `infer backends`).
  virtual std::string unavailable_reason() const { return {}; }
  /// Whether this backend can load a model with `config` here. load_model() asks this, not
  /// available(): a backend whose means of running come from the configuration (llama_server's
  /// LoadConfig::executable) is usable with that configuration even when nothing in the
  /// environment would do.
  virtual bool available_for(const LoadConfig& config) const {
    (void)config;
    return available();
  }
  /// When !available_for(config): one line saying why.
  virtual std::string unavailable_reason_for(const LoadConfig& config) const {
    (void)config;
    return unavailable_reason();
  }
  /// Loads a model; throws inference::Error (not_found, invalid_model, unsupported,
  /// out_of_memory, …) naming the file. Thread-safe.
  virtual std::unique_ptr<TextModel> load_model(const std::filesystem::path& path,
                                                const LoadConfig& config) = 0;
};

/// Adds `backend` to the registry, replacing any backend of the same name. Thread-safe.
void register_backend(std::shared_ptr<Backend> backend);
/// Removes the backend of that name; returns whether one was there (tests and plugins).
bool unregister_backend(const std::string& name);
/// The backend of that name; throws Error(not_registered) naming it if none is linked.
std::shared_ptr<Backend> get_backend(const std::string& name);
/// The backend of that name, or nullptr.
std::shared_ptr<Backend> find_backend(const std::string& name);
/// Names of all registered backends, sorted.
std::vector<std::string> list_backends();
/// The preferred order: cuda, metal, rocm, native, llama_server, http, then others by name.
std::vector<std::string> backend_preference_order();
/// The first available backend in preference order; throws Error(unavailable) listing every
/// registered backend and why it is unavailable, or Error(not_registered) if none is linked.
std::shared_ptr<Backend> default_backend();

/// Loads `path` with config.backend (or default_backend() when empty). Errors: not_registered
/// (no such backend), unavailable (backend cannot run here), or the backend's own load error
/// with the backend's name and the file in the message.
std::unique_ptr<TextModel> load_model(const std::filesystem::path& path,
                                      const LoadConfig& config = {});

/// Registers a backend during static initialisation. Put one at namespace scope in a source
/// file of an OBJECT library (or whole-archive) so the linker keeps it:
///   static const inference::BackendRegistration kRegister{std::make_shared<NativeBackend>()};
struct BackendRegistration {
  explicit BackendRegistration(std::shared_ptr<Backend> backend) {
    register_backend(std::move(backend));
  }
};

}  // namespace inference
