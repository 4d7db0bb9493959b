// formats/gguf.hpp — GGUF v2/v3 reader (memory-mapped, validated) and writer.
//
// Reading never trusts the file: every count, length, offset and dimension product is checked
// against the file size and for overflow before use, and no allocation is made in proportion to
// a claimed size before the bytes backing it are known to exist. Errors are inference::Error
// (invalid_model) with a message naming the file, the field and the byte offset.
// Tensor data is never copied: GgufTensor::data is a view into the mapping, which lives as long
// as the GgufFile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "formats/ggml_types.hpp"
#include "formats/mapped_file.hpp"
#include "inference/error.hpp"

namespace inference::formats {

/// GGUF metadata value types, as stored.
enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
std::string_view to_string(GgufType type) noexcept;

struct GgufValue;
/// An array value: element type plus the items (nested arrays allowed).
struct GgufArray {
  GgufType element_type = GgufType::UINT8;
  std::vector<GgufValue> items;
};

/// One metadata value (strings owned; array accessors of GgufFile return views into them).
struct GgufValue {
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, GgufArray, uint64_t, int64_t, double>;
  GgufType type = GgufType::UINT8;
  Storage value;

  /// Integer of any integer type (bools count as 0/1); nullopt for other types or if the
  /// value does not fit in int64_t.
  std::optional<int64_t> as_int() const noexcept;
  /// Number of any integer or float type.
  std::optional<double> as_double() const noexcept;
  std::optional<bool> as_bool() const noexcept;
  const std::string* as_string() const noexcept;
  const GgufArray* as_array() const noexcept;
};

/// One entry of the tensor table, validated: dims positive, element count and byte size
/// overflow-free, data range inside the file.
struct GgufTensor {
  std::string name;
  std::vector<int64_t> ne;  ///< dims in ggml order: ne[0] is the row length.
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  ///< relative to the data section, as stored
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  std::span<const std::byte> data;  ///< view into the mapping
  /// Number of rows (product of ne[1..]).
  uint64_t n_rows() const noexcept {
    return ne.empty() ? 0 : n_elements / static_cast<uint64_t>(ne[0]);
  }
};

class GgufFile {
 public:
  /// Opens and validates `path`. Throws inference::Error naming the file, field and offset.
  static GgufFile open(const std::filesystem::path& path);
  /// Parses an in-memory image (for fuzzing and tests). `bytes` must outlive the result.
  static GgufFile parse(std::span<const std::byte> bytes, std::string name = "<memory>");

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::filesystem::path& path() const noexcept;
  uint32_t version() const noexcept;
  uint64_t alignment() const noexcept;
  uint64_t data_offset() const noexcept;  ///< absolute offset of the tensor data section
  uint64_t file_size() const noexcept;
  /// MappedFile::release_pages for a range of this file's mapping (no-op for parse()d images).
  void release_pages(const void* p, size_t n) const noexcept;
  /// Whether p points into this file's mapping (false for parse()d images).
  bool is_mapped(const void* p) const noexcept;

  /// Metadata in file order. Large arrays (vocabularies) are validated at open but parsed into
  /// GgufValues only when metadata() or find() first returns them; the typed array getters
  /// below read them in place, which is what a tokenizer should use (see gguf_impl.hpp).
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const;
  const GgufValue* find(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const noexcept;
  std::optional<double> get_float(std::string_view key) const noexcept;
  std::optional<bool> get_bool(std::string_view key) const noexcept;
  std::optional<std::string_view> get_string(std::string_view key) const noexcept;
  /// Typed array accessors; throw Error(invalid_model) if the key holds another type.
  /// A missing key gives an empty vector. Strings are views into the file's bytes.
  std::vector<std::string_view> get_string_array(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;

  /// general.architecture ("" if absent).
  std::string architecture() const;
  /// "<arch>.<suffix>" lookups, e.g. arch_int("context_length").
  std::optional<int64_t> arch_int(std::string_view suffix) const;
  std::optional<double> arch_float(std::string_view suffix) const;

  const std::vector<GgufTensor>& tensors() const noexcept;
  const GgufTensor* find_tensor(std::string_view name) const noexcept;

 private:
  GgufFile();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The file-type label of `file`: file_type_name() of general.file_type, or, when the key is
/// absent or unknown, the name derived from the type holding the most bytes of 2-D weights with
/// " (guessed)" appended ("Q4_K - Medium (guessed)"); "" for a file without tensors.
std::string gguf_file_type_name(const GgufFile& file);

/// Total elements of all tensors (the parameter count llama.cpp reports).
uint64_t gguf_parameter_count(const GgufFile& file);

/// Builds a GGUF file in memory and writes it (v3, little-endian, alignment from
/// general.alignment or 32). Tensor data is copied into the writer or borrowed (must outlive
/// write()).
class GgufWriter {
 public:
  GgufWriter();
  ~GgufWriter();
  void set(std::string key, GgufValue value);  ///< adds or replaces, keeps first-insert order
  void set_string(std::string key, std::string value);
  void set_u32(std::string key, uint32_t value);
  void set_i32(std::string key, int32_t value);
  void set_u64(std::string key, uint64_t value);
  void set_f32(std::string key, float value);
  void set_bool(std::string key, bool value);
  void set_string_array(std::string key, const std::vector<std::string>& values);
  void set_f32_array(std::string key, const std::vector<float>& values);
  void set_i32_array(std::string key, const std::vector<int32_t>& values);
  /// Adds a tensor; `data` must be exactly ggml_row_bytes(type, ne[0]) * rows bytes.
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                  std::span<const std::byte> data, bool copy = true);
  /// Writes the file atomically (temp file + rename). Throws Error on I/O failure.
  void write(const std::filesystem::path& path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inference::formats
