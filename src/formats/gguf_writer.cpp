// formats/gguf_writer.cpp — GgufWriter: builds a GGUF v3 image and writes it atomically.
#include <bit>
#include <cstring>
#include <fstream>
#include <map>

#include "formats/gguf.hpp"
#include "inference/error.hpp"

namespace inference::formats {

struct GgufWriter::Impl {
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::vector<std::byte> owned;
    std::span<const std::byte> data;
  };
  std::vector<std::pair<std::string, GgufValue>> metadata;
  std::map<std::string, size_t, std::less<>> metadata_index;
  std::vector<Tensor> tensors;
  std::map<std::string, size_t, std::less<>> tensor_index;
};

GgufWriter::GgufWriter() : impl_(std::make_unique<Impl>()) {}
GgufWriter::~GgufWriter() = default;

void GgufWriter::set(std::string key, GgufValue value) {
  if (key.empty()) throw Error(ErrorCode::invalid_argument, "GGUF metadata key is empty");
  auto it = impl_->metadata_index.find(key);
  if (it != impl_->metadata_index.end()) {
    impl_->metadata[it->second].second = std::move(value);
    return;
  }
  impl_->metadata_index.emplace(key, impl_->metadata.size());
  impl_->metadata.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::set_string(std::string key, std::string value) {
  set(std::move(key), {GgufType::STRING, std::move(value)});
}
void GgufWriter::set_u32(std::string key, uint32_t value) {
  set(std::move(key), {GgufType::UINT32, value});
}
void GgufWriter::set_i32(std::string key, int32_t value) {
  set(std::move(key), {GgufType::INT32, value});
}
void GgufWriter::set_u64(std::string key, uint64_t value) {
  set(std::move(key), {GgufType::UINT64, value});
}
void GgufWriter::set_f32(std::string key, float value) {
  set(std::move(key), {GgufType::FLOAT32, value});
}
void GgufWriter::set_bool(std::string key, bool value) {
  set(std::move(key), {GgufType::BOOL, value});
}

namespace {

template <typename T>
GgufValue make_array(GgufType element_type, const std::vector<T>& values) {
  GgufArray array{element_type, {}};
  array.items.reserve(values.size());
  for (const auto& v : values) array.items.push_back({element_type, v});
  return {GgufType::ARRAY, std::move(array)};
}

}  // namespace

void GgufWriter::set_string_array(std::string key, const std::vector<std::string>& values) {
  set(std::move(key), make_array(GgufType::STRING, values));
}
void GgufWriter::set_f32_array(std::string key, const std::vector<float>& values) {
  set(std::move(key), make_array(GgufType::FLOAT32, values));
}
void GgufWriter::set_i32_array(std::string key, const std::vector<int32_t>& values) {
  set(std::move(key), make_array(GgufType::INT32, values));
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                            std::span<const std::byte> data, bool copy) {
  auto fail = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, "GGUF tensor '" + name + "': " + why);
  };
  if (impl_->tensor_index.count(name) != 0) fail("added twice");
  // The reader rejects these (GGUF spec), so never write them.
  if (name.size() > 64) fail("name is longer than GGUF's 64 bytes");
  if (ne.empty() || ne.size() > 4) fail("needs 1 to 4 dimensions");
  uint64_t rows = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] <= 0) fail("dimension " + std::to_string(d) + " is not positive");
    if (d > 0 && __builtin_mul_overflow(rows, static_cast<uint64_t>(ne[d]), &rows)) {
      fail("too many elements");
    }
  }
  auto row_bytes = ggml_row_bytes(type, static_cast<uint64_t>(ne[0]));
  if (!row_bytes) fail("row length is not a multiple of the block size of its type");
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(*row_bytes, rows, &bytes)) fail("too many bytes");
  if (bytes != data.size()) {
    fail("data has " + std::to_string(data.size()) + " bytes, its shape and type need " +
         std::to_string(bytes));
  }
  Impl::Tensor tensor{name, type, std::move(ne), {}, data};
  if (copy) {
    tensor.owned.assign(data.begin(), data.end());
    tensor.data = tensor.owned;
  }
  impl_->tensor_index.emplace(name, impl_->tensors.size());
  impl_->tensors.push_back(std::move(tensor));
}

namespace {

class Sink {
 public:
  explicit Sink(std::ofstream& out) : out_(out) {}
  template <typename T>
  void pod(T value) {
    char buf[sizeof(T)];
    std::memcpy(buf, &value, sizeof(T));
    raw(buf, sizeof(T));
  }
  void string(std::string_view s) {
    pod<uint64_t>(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* data, size_t n) {
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    written_ += n;
  }
  void pad_to(uint64_t alignment) {
    static const char zeros[256] = {};
    while (written_ % alignment != 0) {
      raw(zeros, std::min<uint64_t>(sizeof zeros, alignment - written_ % alignment));
    }
  }
  uint64_t written() const { return written_; }

 private:
  std::ofstream& out_;
  uint64_t written_ = 0;
};

void write_value(Sink& sink, const GgufValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          sink.string(v);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          sink.pod<uint32_t>(static_cast<uint32_t>(v.element_type));
          sink.pod<uint64_t>(v.items.size());
          for (const auto& item : v.items) write_value(sink, item);
        } else if constexpr (std::is_same_v<T, bool>) {
          sink.pod<uint8_t>(v ? 1 : 0);
        } else {
          sink.pod<T>(v);
        }
      },
      value.value);
}

// The stored type tag must match the variant, or readers would misparse everything after it.
void check_value(const std::string& key, const GgufValue& value) {
  static constexpr GgufType kByIndex[] = {
      GgufType::UINT8,  GgufType::INT8,    GgufType::UINT16, GgufType::INT16,  GgufType::UINT32,
      GgufType::INT32,  GgufType::FLOAT32, GgufType::BOOL,   GgufType::STRING, GgufType::ARRAY,
      GgufType::UINT64, GgufType::INT64,   GgufType::FLOAT64};
  if (kByIndex[value.value.index()] != value.type) {
    throw Error(ErrorCode::invalid_argument,
                "GGUF metadata '" + key + "': type tag " + std::string(to_string(value.type)) +
                    " does not match the stored " +
                    std::string(to_string(kByIndex[value.value.index()])) + " value");
  }
  if (const GgufArray* array = value.as_array()) {
    for (const auto& item : array->items) {
      if (item.type != array->element_type) {
        throw Error(ErrorCode::invalid_argument, "GGUF metadata '" + key +
                                                     "': array items must all be " +
                                                     std::string(to_string(array->element_type)));
      }
      check_value(key, item);
    }
  }
}

}  // namespace

void GgufWriter::write(const std::filesystem::path& path) const {
  uint64_t alignment = 32;
  if (auto it = impl_->metadata_index.find("general.alignment");
      it != impl_->metadata_index.end()) {
    auto a = impl_->metadata[it->second].second.as_int();
    if (!a || *a <= 0 || !std::has_single_bit(static_cast<uint64_t>(*a)) || *a > (1 << 20)) {
      throw Error(ErrorCode::invalid_argument,
                  "GGUF general.alignment must be a power of two up to 1 MiB");
    }
    alignment = static_cast<uint64_t>(*a);
  }
  for (const auto& [key, value] : impl_->metadata) check_value(key, value);

  std::filesystem::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::backend, temp.string() + ": cannot create");
    Sink sink(out);
    sink.raw("GGUF", 4);
    sink.pod<uint32_t>(3);
    sink.pod<uint64_t>(impl_->tensors.size());
    sink.pod<uint64_t>(impl_->metadata.size());
    for (const auto& [key, value] : impl_->metadata) {
      sink.string(key);
      sink.pod<uint32_t>(static_cast<uint32_t>(value.type));
      write_value(sink, value);
    }
    uint64_t offset = 0;
    for (const auto& t : impl_->tensors) {
      sink.string(t.name);
      sink.pod<uint32_t>(static_cast<uint32_t>(t.ne.size()));
      for (int64_t d : t.ne) sink.pod<uint64_t>(static_cast<uint64_t>(d));
      sink.pod<uint32_t>(static_cast<uint32_t>(t.type));
      sink.pod<uint64_t>(offset);
      offset += (t.data.size() + alignment - 1) / alignment * alignment;
    }
    sink.pad_to(alignment);
    for (const auto& t : impl_->tensors) {
      sink.raw(t.data.data(), t.data.size());
      sink.pad_to(alignment);
    }
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw Error(ErrorCode::backend, temp.string() + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw Error(ErrorCode::backend, path.string() + ": cannot rename the written file into place");
  }
}

}  // namespace inference::formats
