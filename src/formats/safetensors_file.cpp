// formats/safetensors_file.cpp — one .safetensors file: header validation and tensor views.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

#include "formats/json_util.hpp"
#include "formats/safetensors.hpp"

namespace inference::formats {

namespace {

using nlohmann::json;

// The format's own limit (the reference implementation refuses larger headers).
constexpr uint64_t kMaxHeaderSize = 100u << 20;
constexpr size_t kMaxRank = 16;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw Error(ErrorCode::invalid_model, file + ": " + what);
}

// Parses the header, rejecting duplicate keys in any object (nlohmann keeps the last silently,
// which would let two readers of one file see different tensors).
json parse_header(std::string_view text, const std::string& file) {
  check_json_depth(text, file + " header");
  std::vector<std::set<std::string>> keys_at_depth(kMaxJsonDepth + 2);
  std::string duplicate;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth < 0 || depth > kMaxJsonDepth) return true;
    auto d = static_cast<size_t>(depth);
    if (event == json::parse_event_t::object_start) {
      keys_at_depth[d + 1].clear();
    } else if (event == json::parse_event_t::key && parsed.is_string()) {
      if (!keys_at_depth[d].insert(parsed.get<std::string>()).second && duplicate.empty()) {
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    fail(file, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) fail(file, "header has the key '" + duplicate + "' twice");
  if (!header.is_object()) fail(file, "header is not a JSON object");
  return header;
}

uint64_t as_u64(const json& v, const std::string& file, const std::string& what) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    fail(file, what + " must be a non-negative integer, got " + json_excerpt(v));
  }
  return v.get<uint64_t>();
}

}  // namespace

struct SafetensorsFile::Impl {
  std::optional<MappedFile> mapping;
  std::span<const std::byte> bytes;
  std::filesystem::path path;
  uint64_t header_size = 0;
  std::vector<SafetensorsTensor> tensors;
  std::map<std::string, std::string, std::less<>> metadata;

  void parse() {
    const std::string file = path.string();
    if (bytes.size() < 8) {
      fail(file, "header length at byte 0: file has " + std::to_string(bytes.size()) +
                     " bytes, fewer than the 8-byte header length");
    }
    std::memcpy(&header_size, bytes.data(), 8);
    if (header_size > bytes.size() - 8) {
      fail(file, "header length at byte 0: " + std::to_string(header_size) +
                     " exceeds the file size " + std::to_string(bytes.size()));
    }
    if (header_size > kMaxHeaderSize) fail(file, "header length above the 100 MB limit");
    if (header_size < 2) fail(file, "header length " + std::to_string(header_size) + " too small");
    std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), header_size);
    // The format pads the header with spaces (0x20) only. A JSON parser would also skip tabs and
    // newlines, and NUL padding is a common writer bug: refuse anything else after the closing
    // brace, naming the byte, so that every reader sees the same header.
    const size_t end = text.rfind('}');
    json header =
        parse_header(end == std::string_view::npos ? text : text.substr(0, end + 1), file);
    for (size_t i = end + 1; i < text.size(); ++i) {
      if (text[i] != ' ') {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X",
                      static_cast<unsigned>(static_cast<unsigned char>(text[i])));
        fail(file, "header padding at byte " + std::to_string(8 + i) + ": " + hex +
                       " is not a space (0x20), the only byte the format allows after the JSON");
      }
    }

    const uint64_t data_start = 8 + header_size;
    const uint64_t data_size = bytes.size() - data_start;
    for (auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) fail(file, "__metadata__ is not an object");
        for (auto& [key, value] : entry.items()) {
          if (!value.is_string()) fail(file, "__metadata__ '" + key + "' is not a string");
          metadata.emplace(key, value.get<std::string>());
        }
        continue;
      }
      const std::string where = "tensor '" + name + "'";
      if (!entry.is_object()) fail(file, where + " is not an object");
      auto dtype_it = entry.find("dtype");
      auto shape_it = entry.find("shape");
      auto offsets_it = entry.find("data_offsets");
      if (dtype_it == entry.end() || shape_it == entry.end() || offsets_it == entry.end()) {
        fail(file, where + " lacks dtype, shape or data_offsets");
      }
      SafetensorsTensor t;
      t.name = name;
      if (!dtype_it->is_string()) fail(file, where + " dtype is not a string");
      auto dtype = safetensors_dtype_from_name(dtype_it->get<std::string>());
      if (!dtype) fail(file, where + " has unknown dtype '" + dtype_it->get<std::string>() + "'");
      t.dtype = *dtype;
      if (!shape_it->is_array() || shape_it->size() > kMaxRank) {
        fail(file, where + " shape is not a list of at most 16 dimensions");
      }
      t.n_elements = 1;
      for (const auto& dim : *shape_it) {
        uint64_t d = as_u64(dim, file, where + " shape entry");
        if (d > static_cast<uint64_t>(INT64_MAX) ||
            __builtin_mul_overflow(t.n_elements, d, &t.n_elements)) {
          fail(file, where + " shape overflows 64 bits");
        }
        t.shape.push_back(static_cast<int64_t>(d));
      }
      if (!offsets_it->is_array() || offsets_it->size() != 2) {
        fail(file, where + " data_offsets is not [begin, end]");
      }
      t.data_begin = as_u64((*offsets_it)[0], file, where + " data_offsets[0]");
      t.data_end = as_u64((*offsets_it)[1], file, where + " data_offsets[1]");
      if (t.data_begin > t.data_end || t.data_end > data_size) {
        fail(file, where + " data_offsets [" + std::to_string(t.data_begin) + ", " +
                       std::to_string(t.data_end) + "] lie outside the " +
                       std::to_string(data_size) + "-byte data buffer at byte " +
                       std::to_string(data_start));
      }
      uint64_t n_bytes = 0;
      if (__builtin_mul_overflow(t.n_elements, uint64_t{dtype_size(t.dtype)}, &n_bytes)) {
        fail(file, where + " shape needs more than 2^64 bytes");
      }
      if (n_bytes != t.data_end - t.data_begin) {
        fail(file, where + " holds " + std::to_string(t.data_end - t.data_begin) +
                       " bytes but its shape and dtype need " + std::to_string(n_bytes));
      }
      t.data = bytes.subspan(data_start + t.data_begin, n_bytes);
      tensors.push_back(std::move(t));
    }
    check_coverage(file, data_size);
    std::sort(tensors.begin(), tensors.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
  }

  // The format requires the buffer to be exactly tiled by the tensors: no overlap (two tensors
  // aliasing one byte) and no holes (hidden payloads).
  void check_coverage(const std::string& file, uint64_t data_size) {
    std::vector<const SafetensorsTensor*> by_offset;
    by_offset.reserve(tensors.size());
    for (const auto& t : tensors) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
      return a->data_begin != b->data_begin ? a->data_begin < b->data_begin
                                            : a->data_end < b->data_end;
    });
    uint64_t expected = 0;
    for (const auto* t : by_offset) {
      if (t->data_begin != expected) {
        fail(file, "tensor '" + t->name + "' starts at data offset " +
                       std::to_string(t->data_begin) + " where " + std::to_string(expected) +
                       (t->data_begin < expected ? " (overlap)" : " (hole)") + " was expected");
      }
      expected = t->data_end;
    }
    if (expected != data_size) {
      fail(file, "tensors cover " + std::to_string(expected) + " of the " +
                     std::to_string(data_size) + " data bytes");
    }
  }
};

SafetensorsFile::SafetensorsFile() : impl_(std::make_unique<Impl>()) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile file;
  file.impl_->mapping.emplace(path);
  file.impl_->bytes = file.impl_->mapping->bytes();
  file.impl_->path = path;
  file.impl_->parse();
  return file;
}

SafetensorsFile SafetensorsFile::parse(std::span<const std::byte> bytes, std::string name) {
  SafetensorsFile file;
  file.impl_->bytes = bytes;
  file.impl_->path = std::move(name);
  file.impl_->parse();
  return file;
}

const std::filesystem::path& SafetensorsFile::path() const noexcept {
  return impl_->path;
}
uint64_t SafetensorsFile::file_size() const noexcept {
  return impl_->bytes.size();
}
uint64_t SafetensorsFile::header_size() const noexcept {
  return impl_->header_size;
}
const std::vector<SafetensorsTensor>& SafetensorsFile::tensors() const noexcept {
  return impl_->tensors;
}
const std::map<std::string, std::string, std::less<>>& SafetensorsFile::metadata() const noexcept {
  return impl_->metadata;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const noexcept {
  auto it =
      std::lower_bound(impl_->tensors.begin(), impl_->tensors.end(), name,
                       [](const SafetensorsTensor& t, std::string_view n) { return t.name < n; });
  return it != impl_->tensors.end() && it->name == name ? &*it : nullptr;
}

}  // namespace inference::formats
