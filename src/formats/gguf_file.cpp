// formats/gguf_file.cpp — GgufFile: opening, and typed access to metadata and tensors.
#include <algorithm>
#include <cstring>
#include <map>

#include "formats/gguf_impl.hpp"
#include "inference/error.hpp"

namespace inference::formats {

GgufFile::GgufFile() : impl_(std::make_unique<Impl>()) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::open(const std::filesystem::path& path) {
  GgufFile file;
  file.impl_->mapping.emplace(path);
  file.impl_->bytes = file.impl_->mapping->bytes();
  file.impl_->path = path;
  parse_gguf(*file.impl_);
  return file;
}

GgufFile GgufFile::parse(std::span<const std::byte> bytes, std::string name) {
  GgufFile file;
  file.impl_->bytes = bytes;
  file.impl_->path = std::move(name);
  parse_gguf(*file.impl_);
  return file;
}

const std::filesystem::path& GgufFile::path() const noexcept {
  return impl_->path;
}
uint32_t GgufFile::version() const noexcept {
  return impl_->version;
}
uint64_t GgufFile::alignment() const noexcept {
  return impl_->alignment;
}
uint64_t GgufFile::data_offset() const noexcept {
  return impl_->data_offset;
}
uint64_t GgufFile::file_size() const noexcept {
  return impl_->bytes.size();
}
void GgufFile::release_pages(const void* p, size_t n) const noexcept {
  if (impl_->mapping) impl_->mapping->release_pages(p, n);
}
bool GgufFile::is_mapped(const void* p) const noexcept {
  return impl_->mapping && impl_->mapping->contains(p);
}

namespace {

// The value stored for `key` (a large array may still be in the mapping), or null.
const GgufValue* stored(const GgufContents& impl, std::string_view key) noexcept {
  auto it = impl.metadata_index.find(key);
  return it == impl.metadata_index.end() ? nullptr : &impl.metadata[it->second].second;
}

const InPlaceArray* in_place_array(const GgufContents& impl, std::string_view key) noexcept {
  auto it = impl.metadata_index.find(key);
  if (it == impl.metadata_index.end()) return nullptr;
  for (const auto& a : impl.in_place)
    if (a.entry == it->second) return &a;
  return nullptr;
}

// Parses the in-place arrays among `entries` (all when null) so that callers of find() and
// metadata() see every item. The bytes were validated at open, so this cannot fail on them;
// only allocation can.
void parse_in_place(GgufContents& impl, const size_t* entry) {
  std::lock_guard lock(impl.parse_mutex);
  for (auto& a : impl.in_place) {
    if (entry == nullptr || a.entry == *entry) parse_in_place_array(impl, a);
  }
}

}  // namespace

const std::vector<std::pair<std::string, GgufValue>>& GgufFile::metadata() const {
  if (!impl_->in_place.empty()) parse_in_place(*impl_, nullptr);
  return impl_->metadata;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = impl_->metadata_index.find(key);
  if (it == impl_->metadata_index.end()) return nullptr;
  if (in_place_array(*impl_, key) != nullptr) parse_in_place(*impl_, &it->second);
  return &impl_->metadata[it->second].second;
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const noexcept {
  const GgufValue* v = stored(*impl_, key);  // scalars are never left in place
  return v ? v->as_int() : std::nullopt;
}

std::optional<double> GgufFile::get_float(std::string_view key) const noexcept {
  const GgufValue* v = stored(*impl_, key);  // scalars are never left in place
  return v ? v->as_double() : std::nullopt;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const noexcept {
  const GgufValue* v = stored(*impl_, key);  // scalars are never left in place
  return v ? v->as_bool() : std::nullopt;
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const noexcept {
  const GgufValue* v = stored(*impl_, key);  // scalars are never left in place
  if (v == nullptr) return std::nullopt;
  const std::string* s = v->as_string();
  if (s == nullptr) return std::nullopt;
  return std::string_view(*s);
}

namespace {

[[noreturn]] void wrong_type(const GgufFile& file, std::string_view key, std::string_view want,
                             const GgufValue& got) {
  std::string have(to_string(got.type));
  if (const GgufArray* a = got.as_array()) have += " of " + std::string(to_string(a->element_type));
  throw Error(ErrorCode::invalid_model, file.path().string() + ": metadata '" + std::string(key) +
                                            "' should be an array of " + std::string(want) +
                                            " but is " + have);
}

const GgufArray* array_or_null(const GgufFile& file, const GgufValue* v, std::string_view key,
                               std::string_view want) {
  if (v == nullptr) return nullptr;
  const GgufArray* array = v->as_array();
  if (array == nullptr) wrong_type(file, key, want, *v);
  return array;
}

// Decodes the elements of an in-place array, validated at open, one at a time.
class InPlaceElements {
 public:
  explicit InPlaceElements(const InPlaceArray& a) : bytes_(a.encoded) {}
  template <typename T>
  T next() {
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));  // host is little-endian, as the file
    pos_ += sizeof(T);
    return value;
  }
  std::string_view next_string() {
    const auto length = next<uint64_t>();
    std::string_view text(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return text;
  }

 private:
  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
};

// Calls out(value) with every element of a numeric in-place array as `T` (int64_t or double);
// false when the element type is not numeric.
template <typename T, typename Out>
bool decode_numbers(const InPlaceArray& a, Out out) {
  InPlaceElements in(a);
  auto each = [&](auto tag) {
    using E = decltype(tag);
    for (uint64_t i = 0; i < a.count; ++i) {
      if (!out(in.next<E>())) return false;
    }
    return true;
  };
  switch (a.element_type) {
    case GgufType::UINT8:
      return each(uint8_t{});
    case GgufType::INT8:
      return each(int8_t{});
    case GgufType::UINT16:
      return each(uint16_t{});
    case GgufType::INT16:
      return each(int16_t{});
    case GgufType::UINT32:
      return each(uint32_t{});
    case GgufType::INT32:
      return each(int32_t{});
    case GgufType::UINT64:
      return each(uint64_t{});
    case GgufType::INT64:
      return each(int64_t{});
    case GgufType::FLOAT32:
      return each(float{});
    case GgufType::FLOAT64:
      return each(double{});
    default:
      return false;
  }
}

}  // namespace

std::vector<std::string_view> GgufFile::get_string_array(std::string_view key) const {
  std::vector<std::string_view> out;
  const GgufValue* v = stored(*impl_, key);
  const GgufArray* array = array_or_null(*this, v, key, "STRING");
  if (array == nullptr) return out;
  if (array->element_type != GgufType::STRING) wrong_type(*this, key, "STRING", *v);
  if (const InPlaceArray* a = in_place_array(*impl_, key)) {
    // Views straight into the mapping: nothing is copied.
    out.reserve(a->count);
    InPlaceElements in(*a);
    for (uint64_t i = 0; i < a->count; ++i) out.push_back(in.next_string());
    return out;
  }
  out.reserve(array->items.size());
  for (const auto& item : array->items) out.emplace_back(*item.as_string());
  return out;
}

std::vector<float> GgufFile::get_float_array(std::string_view key) const {
  std::vector<float> out;
  const GgufValue* v = stored(*impl_, key);
  const GgufArray* array = array_or_null(*this, v, key, "numbers");
  if (array == nullptr) return out;
  if (const InPlaceArray* a = in_place_array(*impl_, key)) {
    out.reserve(a->count);
    const bool numeric = decode_numbers<double>(*a, [&](auto x) {
      out.push_back(static_cast<float>(x));
      return true;
    });
    if (!numeric) wrong_type(*this, key, "numbers", *v);
    return out;
  }
  out.reserve(array->items.size());
  for (const auto& item : array->items) {
    auto d = item.as_double();
    if (!d) wrong_type(*this, key, "numbers", *v);
    out.push_back(static_cast<float>(*d));
  }
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  std::vector<int64_t> out;
  const GgufValue* v = stored(*impl_, key);
  const GgufArray* array = array_or_null(*this, v, key, "integers");
  if (array == nullptr) return out;
  if (const InPlaceArray* a = in_place_array(*impl_, key)) {
    const bool integral = a->element_type != GgufType::FLOAT32 &&
                          a->element_type != GgufType::FLOAT64 &&
                          decode_numbers<int64_t>(*a, [&](auto x) {
                            if constexpr (std::is_same_v<decltype(x), uint64_t>) {
                              if (x > static_cast<uint64_t>(INT64_MAX)) return false;
                            }
                            out.push_back(static_cast<int64_t>(x));
                            return true;
                          });
    if (!integral) wrong_type(*this, key, "integers", *v);
    return out;
  }
  out.reserve(array->items.size());
  for (const auto& item : array->items) {
    auto i = item.type == GgufType::BOOL ? std::nullopt : item.as_int();
    if (!i) wrong_type(*this, key, "integers", *v);
    out.push_back(*i);
  }
  return out;
}

std::string GgufFile::architecture() const {
  auto arch = get_string("general.architecture");
  return arch ? std::string(*arch) : std::string();
}

std::optional<int64_t> GgufFile::arch_int(std::string_view suffix) const {
  return get_int(architecture() + "." + std::string(suffix));
}

std::optional<double> GgufFile::arch_float(std::string_view suffix) const {
  return get_float(architecture() + "." + std::string(suffix));
}

const std::vector<GgufTensor>& GgufFile::tensors() const noexcept {
  return impl_->tensors;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const noexcept {
  auto it = impl_->tensor_index.find(name);
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

std::string gguf_file_type_name(const GgufFile& file) {
  if (auto ft = file.get_int("general.file_type"); ft && *ft >= 0 && *ft <= UINT32_MAX) {
    std::string_view name = file_type_name(static_cast<uint32_t>(*ft));
    if (!name.empty()) return std::string(name);
  }
  // No usable key: name the file after the type holding most weight bytes among matrices
  // (1-D norms and biases stay F32 in every quantised file and would skew a count).
  std::map<GgmlType, uint64_t> bytes_by_type;
  for (const auto& t : file.tensors()) {
    if (t.ne.size() >= 2) bytes_by_type[t.type] += t.n_bytes;
  }
  if (bytes_by_type.empty()) {
    for (const auto& t : file.tensors()) bytes_by_type[t.type] += t.n_bytes;
  }
  auto best = std::max_element(bytes_by_type.begin(), bytes_by_type.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  if (best == bytes_by_type.end()) return "";
  if (auto ft = file_type_for_tensor_type(best->first)) {
    return std::string(file_type_name(*ft)) + " (guessed)";
  }
  return std::string(ggml_type_info(best->first)->name) + " (guessed)";
}

uint64_t gguf_parameter_count(const GgufFile& file) {
  uint64_t total = 0;
  for (const auto& t : file.tensors()) total += t.n_elements;
  return total;
}

}  // namespace inference::formats
