#include "mcp/model_pool.hpp"

#include "inference/error.hpp"
#include "mcp/tool.hpp"

namespace inference::mcp {

std::string default_model_id(const std::filesystem::path& model) {
  auto name = model.filename();
  if (name.empty()) name = model.parent_path().filename();  // "dir/" names the directory
  return name.string();
}

ModelPool::ModelPool(McpOptions options) : options_(std::move(options)) {}

std::vector<ModelPool::Known> ModelPool::known_models() const {
  std::vector<Known> known;
  if (!options_.model.empty()) {
    DiscoveredModel info;
    info.path = options_.model;
    // discover() reads headers only; look the default model up beside itself.
    std::error_code ec;
    auto parent = options_.model.parent_path().empty() ? std::filesystem::path(".")
                                                       : options_.model.parent_path();
    if (std::filesystem::exists(options_.model, ec) && std::filesystem::is_directory(parent, ec)) {
      try {
        for (auto& m : discover(parent).models) {
          if (std::filesystem::equivalent(m.path, options_.model, ec)) info = m;
        }
      } catch (const Error&) {
      }
    }
    known.push_back({default_model_id(options_.model), info});
  }
  if (!options_.models_dir.empty()) {
    std::error_code ec;
    for (auto& m : discover(options_.models_dir).models) {
      if (!options_.model.empty() && std::filesystem::equivalent(m.path, options_.model, ec)) {
        continue;  // the default model, listed above under its own id
      }
      auto rel = std::filesystem::relative(m.path, options_.models_dir).generic_string();
      known.push_back({rel, m});
    }
  }
  return known;
}

std::filesystem::path ModelPool::resolve(const std::string& model_id, std::string& id) const {
  if (model_id.empty() ||
      (!options_.model.empty() && model_id == default_model_id(options_.model))) {
    if (options_.model.empty()) {
      throw ToolError(
          "no model: the server was started without one, so name one with \"model\" "
          "(resources/list "
          "shows the models it can see)");
    }
    id = default_model_id(options_.model);
    return options_.model;
  }
  if (options_.models_dir.empty()) {
    throw ToolError(
        "unknown model \"" + model_id +
        "\": the server has no models directory (--models-dir), only its default model " +
        (options_.model.empty() ? "(none)" : default_model_id(options_.model)));
  }
  std::vector<std::string> ids;
  const DiscoveredModel* match = nullptr;
  auto found = discover(options_.models_dir).models;
  std::vector<std::string> rels;
  for (const auto& m : found) {
    rels.push_back(std::filesystem::relative(m.path, options_.models_dir).generic_string());
  }
  // An id is the path relative to the models directory; the bare file name works when unique.
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (rels[i] == model_id) {
      id = rels[i];
      return found[i].path;
    }
  }
  int matches = 0;
  for (std::size_t i = 0; i < found.size(); ++i) {
    auto file = found[i].path.filename().string();
    if (file == model_id || found[i].path.stem().string() == model_id) {
      ++matches;
      match = &found[i];
      id = rels[i];
    }
  }
  if (matches == 1) return match->path;
  std::string list;
  for (std::size_t i = 0; i < rels.size() && i < 20; ++i) list += (i ? ", " : "") + rels[i];
  throw ToolError(
      "unknown model \"" + model_id + "\"" +
      (matches > 1 ? " (ambiguous: use the path relative to the models directory)" : "") +
      "; known: " + (list.empty() ? "none" : list));
}

ModelLease ModelPool::get(const std::string& model_id, const std::string& backend_name) {
  std::string id;
  auto path = resolve(model_id, id);
  std::string backend = backend_name.empty() ? options_.backend : backend_name;
  if (!backend.empty() && !find_backend(backend)) {
    std::string names;
    for (const auto& n : list_backends()) names += (names.empty() ? "" : ", ") + n;
    throw ToolError("unknown backend \"" + backend + "\"; linked: " + names);
  }
  std::string key = path.string() + "\n" + backend;
  // Loads are serialised: they are rare, and two calls asking for the same model at once must
  // not load it twice.
  std::lock_guard lock(mutex_);
  if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
  if (loaded_.size() >= options_.max_loaded_models) {
    throw ToolError("already " + std::to_string(loaded_.size()) +
                    " models loaded (the limit); use one of them");
  }
  LoadConfig config = options_.load;
  config.backend = backend;
  std::shared_ptr<TextModel> model = load_model(path, config);
  // The registry name the call asked for is the backend's name; a default load asks the model.
  std::string backend_used = backend.empty() ? model->info().backend : backend;
  if (backend_used.empty()) backend_used = default_backend()->name();
  ModelLease lease{model, id, backend_used};
  loaded_[key] = lease;
  return lease;
}

std::shared_ptr<TextModel> ModelPool::cached(
    const std::string& key, const std::function<std::unique_ptr<TextModel>()>& load) {
  std::lock_guard lock(mutex_);
  auto& slot = cached_[key];
  if (!slot) slot = load();
  return slot;
}

nlohmann::json ModelPool::loaded() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, lease] : loaded_) {
    auto info = lease.model->info();
    out.push_back({{"id", lease.id},
                   {"backend", lease.backend},
                   {"architecture", info.architecture},
                   {"quantization", info.quantization},
                   {"context_length", info.context_length}});
  }
  return out;
}

}  // namespace inference::mcp
