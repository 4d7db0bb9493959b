// formats/safetensors_model.cpp — a model's Safetensors weights across one or more shards.
#include <algorithm>
#include <fstream>
#include <set>

#include "formats/json_util.hpp"
#include "formats/safetensors.hpp"

namespace inference::formats {

namespace fs = std::filesystem;

struct SafetensorsModel::Impl {
  fs::path path;
  std::vector<SafetensorsFile> shards;
  std::vector<const SafetensorsTensor*> tensors;  // sorted by name
  uint64_t size_bytes = 0;
};

namespace {

constexpr uint64_t kMaxIndexSize = 64u << 20;

std::string read_small_file(const fs::path& path, uint64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, path.string() + ": cannot open");
  in.seekg(0, std::ios::end);
  auto size = static_cast<int64_t>(in.tellg());
  if (size < 0 || static_cast<uint64_t>(size) > limit) {
    throw Error(ErrorCode::invalid_model, path.string() + ": implausibly large");
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) throw Error(ErrorCode::backend, path.string() + ": read failed");
  return text;
}

// The shard files named by model.safetensors.index.json, and which tensor each must hold.
std::vector<std::string> shards_from_index(const fs::path& index_path,
                                           std::map<std::string, std::string>& weight_map) {
  const std::string file = index_path.string();
  auto index = parse_untrusted_json(read_small_file(index_path, kMaxIndexSize), file);
  auto map_it = index.is_object() ? index.find("weight_map") : index.end();
  if (map_it == index.end() || !map_it->is_object()) {
    throw Error(ErrorCode::invalid_model, file + ": no \"weight_map\" object");
  }
  std::set<std::string> names;
  for (auto& [tensor, shard] : map_it->items()) {
    if (!shard.is_string()) {
      throw Error(ErrorCode::invalid_model,
                  file + ": weight_map['" + tensor + "'] is not a string");
    }
    std::string shard_name = shard.get<std::string>();
    // Shards must sit beside the index: a path could point anywhere on the machine.
    if (shard_name.empty() || shard_name.find('/') != std::string::npos ||
        shard_name.find('\\') != std::string::npos || shard_name == "." || shard_name == "..") {
      throw Error(ErrorCode::invalid_model, file + ": weight_map['" + tensor + "'] names '" +
                                                shard_name +
                                                "', not a file in the model directory");
    }
    names.insert(shard_name);
    weight_map.emplace(tensor, std::move(shard_name));
  }
  return {names.begin(), names.end()};
}

}  // namespace

SafetensorsModel::SafetensorsModel() : impl_(std::make_unique<Impl>()) {}
SafetensorsModel::SafetensorsModel(SafetensorsModel&&) noexcept = default;
SafetensorsModel& SafetensorsModel::operator=(SafetensorsModel&&) noexcept = default;
SafetensorsModel::~SafetensorsModel() = default;

SafetensorsModel SafetensorsModel::open(const fs::path& path) {
  SafetensorsModel model;
  Impl& impl = *model.impl_;
  impl.path = path;
  std::error_code ec;
  std::vector<fs::path> files;
  std::map<std::string, std::string> weight_map;
  if (!fs::exists(path, ec)) throw Error(ErrorCode::not_found, path.string() + ": does not exist");
  if (!fs::is_directory(path, ec)) {
    files.push_back(path);
  } else if (fs::exists(path / "model.safetensors.index.json", ec)) {
    for (const auto& name : shards_from_index(path / "model.safetensors.index.json", weight_map)) {
      files.push_back(path / name);
    }
  } else if (fs::exists(path / "model.safetensors", ec)) {
    files.push_back(path / "model.safetensors");
  } else {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) {
    throw Error(ErrorCode::not_found, path.string() + ": no .safetensors files");
  }
  for (const auto& file : files) {
    impl.shards.push_back(SafetensorsFile::open(file));
    impl.size_bytes += impl.shards.back().file_size();
  }
  std::map<std::string_view, const SafetensorsTensor*> all;
  for (size_t s = 0; s < impl.shards.size(); ++s) {
    // Shard indices are set here: the file itself does not know its place in the model.
    auto& tensors = const_cast<std::vector<SafetensorsTensor>&>(impl.shards[s].tensors());
    for (auto& t : tensors) {
      t.shard = s;
      if (!all.emplace(t.name, &t).second) {
        throw Error(ErrorCode::invalid_model,
                    path.string() + ": tensor '" + t.name + "' appears in more than one shard");
      }
    }
  }
  for (const auto& [tensor, shard] : weight_map) {
    auto it = all.find(tensor);
    if (it == all.end() || impl.shards[it->second->shard].path().filename() != shard) {
      throw Error(ErrorCode::invalid_model, path.string() +
                                                ": model.safetensors.index.json puts tensor '" +
                                                tensor + "' in " + shard + ", which lacks it");
    }
  }
  impl.tensors.reserve(all.size());
  for (const auto& [name, tensor] : all) impl.tensors.push_back(tensor);
  return model;
}

const SafetensorsTensor* SafetensorsModel::find(std::string_view name) const noexcept {
  auto it =
      std::lower_bound(impl_->tensors.begin(), impl_->tensors.end(), name,
                       [](const SafetensorsTensor* t, std::string_view n) { return t->name < n; });
  return it != impl_->tensors.end() && (*it)->name == name ? *it : nullptr;
}

const SafetensorsTensor& SafetensorsModel::get(std::string_view name) const {
  const SafetensorsTensor* t = find(name);
  if (t == nullptr) {
    throw Error(ErrorCode::not_found,
                impl_->path.string() + ": no tensor named '" + std::string(name) + "'");
  }
  return *t;
}

const std::vector<const SafetensorsTensor*>& SafetensorsModel::tensors() const noexcept {
  return impl_->tensors;
}
const std::vector<SafetensorsFile>& SafetensorsModel::shards() const noexcept {
  return impl_->shards;
}
uint64_t SafetensorsModel::size_bytes() const noexcept {
  return impl_->size_bytes;
}
const fs::path& SafetensorsModel::path() const noexcept {
  return impl_->path;
}

}  // namespace inference::formats
