#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "inference/backend.hpp"
#include "inference/log.hpp"

namespace inference {
namespace {

// Function-local static: safe to use from other translation units' static initialisers
// (BackendRegistration objects), whatever the link order.
struct Registry {
  std::shared_mutex mutex;
  std::map<std::string, std::shared_ptr<Backend>> backends;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void register_backend(std::shared_ptr<Backend> backend) {
  if (!backend) throw Error(ErrorCode::invalid_argument, "register_backend: null backend");
  auto name = backend->name();
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "register_backend: empty name");
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  r.backends[name] = std::move(backend);
}

bool unregister_backend(const std::string& name) {
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  return r.backends.erase(name) > 0;
}

std::shared_ptr<Backend> find_backend(const std::string& name) {
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.backends.find(name);
  return it == r.backends.end() ? nullptr : it->second;
}

std::vector<std::string> list_backends() {
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  std::vector<std::string> names;
  names.reserve(r.backends.size());
  for (const auto& [name, backend] : r.backends) names.push_back(name);
  return names;  // std::map keeps them sorted
}

std::shared_ptr<Backend> get_backend(const std::string& name) {
  if (auto backend = find_backend(name)) return backend;
  std::string known;
  for (const auto& n : list_backends()) known += (known.empty() ? "" : ", ") + n;
  throw Error(ErrorCode::not_registered, "backend '" + name +
                                             "' is not registered (linked backends: " +
                                             (known.empty() ? "none" : known) + ")");
}

std::vector<std::string> backend_preference_order() {
  static const std::vector<std::string> preferred = {"cuda",   "metal",        "rocm",
                                                     "native", "llama_server", "http"};
  std::vector<std::string> order;
  auto names = list_backends();
  for (const auto& p : preferred) {
    if (std::find(names.begin(), names.end(), p) != names.end()) order.push_back(p);
  }
  for (const auto& n : names) {
    if (std::find(preferred.begin(), preferred.end(), n) == preferred.end()) order.push_back(n);
  }
  return order;
}

std::shared_ptr<Backend> default_backend() {
  auto order = backend_preference_order();
  if (order.empty()) {
    throw Error(ErrorCode::not_registered, "no inference backend is linked into this program");
  }
  std::string reasons;
  for (const auto& name : order) {
    auto backend = find_backend(name);
    if (!backend) continue;  // unregistered concurrently
    if (backend->available()) return backend;
    auto why = backend->unavailable_reason();
    reasons += (reasons.empty() ? "" : "; ") + name + ": " + (why.empty() ? "unavailable" : why);
  }
  throw Error(ErrorCode::unavailable, "no available backend (" + reasons + ")");
}

std::unique_ptr<TextModel> load_model(const std::filesystem::path& path, const LoadConfig& config) {
  auto backend = config.backend.empty() ? default_backend() : get_backend(config.backend);
  if (!backend->available_for(config)) {
    auto why = backend->unavailable_reason_for(config);
    throw Error(ErrorCode::unavailable, "backend '" + backend->name() + "' is not available" +
                                            (why.empty() ? "" : ": " + why));
  }
  try {
    auto model = backend->load_model(path, config);
    if (!model) {
      throw Error(ErrorCode::backend,
                  "backend '" + backend->name() + "' returned no model for " + path.string());
    }
    return model;
  } catch (const Error& e) {
    std::string message = e.what();
    // Name the backend and the file once, whatever the backend already said.
    if (message.find(path.string()) == std::string::npos) message = path.string() + ": " + message;
    throw Error(e.code(), "backend '" + backend->name() + "' failed to load model: " + message);
  }
}

}  // namespace inference
