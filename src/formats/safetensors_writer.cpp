// formats/safetensors_writer.cpp — writes single-file and sharded Safetensors models.
#include <cstdio>
#include <fstream>

#include "formats/json_util.hpp"
#include "formats/safetensors.hpp"

namespace inference::formats {

namespace fs = std::filesystem;
using nlohmann::json;

struct SafetensorsWriter::Impl {
  struct Tensor {
    std::string name;
    SafetensorsDtype dtype;
    std::vector<int64_t> shape;
    std::vector<std::byte> owned;
    std::span<const std::byte> data;
  };
  std::map<std::string, std::string> metadata;
  std::vector<Tensor> tensors;
  std::map<std::string, size_t, std::less<>> index;
};

SafetensorsWriter::SafetensorsWriter() : impl_(std::make_unique<Impl>()) {}
SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  impl_->metadata[std::move(key)] = std::move(value);
}

void SafetensorsWriter::add_tensor(std::string name, SafetensorsDtype dtype,
                                   std::vector<int64_t> shape, std::span<const std::byte> data,
                                   bool copy) {
  auto fail = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, "safetensors tensor '" + name + "': " + why);
  };
  if (name.empty() || name == "__metadata__") fail("reserved or empty name");
  if (impl_->index.count(name) != 0) fail("added twice");
  uint64_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0) fail("negative dimension");
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(d), &elements)) fail("too large");
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(elements, uint64_t{dtype_size(dtype)}, &bytes) ||
      bytes != data.size()) {
    fail("data has " + std::to_string(data.size()) + " bytes, shape and dtype need " +
         std::to_string(bytes));
  }
  Impl::Tensor t{name, dtype, std::move(shape), {}, data};
  if (copy) {
    t.owned.assign(data.begin(), data.end());
    t.data = t.owned;
  }
  impl_->index.emplace(name, impl_->tensors.size());
  impl_->tensors.push_back(std::move(t));
}

namespace {

template <typename Tensor>
void write_file(const fs::path& path, const std::vector<const Tensor*>& tensors,
                const std::map<std::string, std::string>& metadata) {
  // nlohmann::ordered_json keeps insertion order, so the header lists tensors in data order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const Tensor* t : tensors) {
    header[t->name] = {{"dtype", std::string(to_string(t->dtype))},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->data.size()}}};
    offset += t->data.size();
  }
  std::string text = header.dump();
  // Pad with spaces so the data buffer starts 8-aligned (readers may then cast in place).
  text.append((8 - text.size() % 8) % 8, ' ');
  fs::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::backend, temp.string() + ": cannot create");
    uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const Tensor* t : tensors) {
      out.write(reinterpret_cast<const char*>(t->data.data()),
                static_cast<std::streamsize>(t->data.size()));
    }
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      throw Error(ErrorCode::backend, temp.string() + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw Error(ErrorCode::backend, path.string() + ": cannot rename the written file into place");
  }
}

}  // namespace

void SafetensorsWriter::write(const fs::path& path) const {
  std::vector<const Impl::Tensor*> all;
  for (const auto& t : impl_->tensors) all.push_back(&t);
  write_file(path, all, impl_->metadata);
}

std::vector<fs::path> SafetensorsWriter::write_sharded(const fs::path& dir,
                                                       uint64_t max_shard_bytes,
                                                       std::string_view stem) const {
  if (max_shard_bytes == 0) {
    throw Error(ErrorCode::invalid_argument, "safetensors shard size must be positive");
  }
  std::vector<std::vector<const Impl::Tensor*>> shards(1);
  uint64_t in_shard = 0;
  uint64_t total = 0;
  for (const auto& t : impl_->tensors) {
    if (!shards.back().empty() && in_shard + t.data.size() > max_shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(&t);
    in_shard += t.data.size();
    total += t.data.size();
  }
  std::vector<fs::path> paths;
  json weight_map = json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    fs::path path = dir / (std::string(stem) + name);
    write_file(path, shards[i], impl_->metadata);
    for (const auto* t : shards[i]) weight_map[t->name] = path.filename().string();
    paths.push_back(path);
  }
  json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  fs::path index_path = dir / (std::string(stem) + ".safetensors.index.json");
  std::ofstream out(index_path, std::ios::binary | std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out) throw Error(ErrorCode::backend, index_path.string() + ": write failed");
  return paths;
}

}  // namespace inference::formats
