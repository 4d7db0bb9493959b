// formats/safetensors.hpp — Safetensors reader (single file and sharded directory) and writer.
//
// A file is: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}, …,
//  "__metadata__": {"k": "v"}}, then the data buffer. The reader validates everything before
// use — header length against the file, JSON depth, duplicate names, dtype, shape products
// (overflow), offsets inside the buffer, byte size = elements × dtype size, and the buffer fully
// covered without overlaps or holes (as the format requires) — and gives tensors as views into a
// read-only mapping. Data is NOT necessarily aligned to its element size: read it with memcpy
// or repack it. Shapes are in PyTorch order (outermost first; shape.back() is the row length),
// the reverse of GGUF's ne.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/mapped_file.hpp"
#include "inference/error.hpp"

namespace inference::formats {

enum class SafetensorsDtype {
  BOOL,
  U8,
  I8,
  F8_E5M2,
  F8_E4M3,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  F64,
  I64,
  U64,
};
/// "F32", "BF16", … as written in headers.
std::string_view to_string(SafetensorsDtype dtype) noexcept;
std::optional<SafetensorsDtype> safetensors_dtype_from_name(std::string_view name) noexcept;
/// Bytes per element.
uint32_t dtype_size(SafetensorsDtype dtype) noexcept;

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::F32;
  std::vector<int64_t> shape;  ///< outermost first; empty = scalar
  uint64_t n_elements = 0;
  uint64_t data_begin = 0;  ///< offsets within the data buffer, as stored
  uint64_t data_end = 0;
  std::span<const std::byte> data;  ///< view into the mapping
  size_t shard = 0;                 ///< index of the file holding it (SafetensorsModel)
};

/// One .safetensors file.
class SafetensorsFile {
 public:
  /// Maps and validates `path`; throws Error(invalid_model) naming the file, the tensor or key,
  /// and the byte offset where that applies.
  static SafetensorsFile open(const std::filesystem::path& path);
  /// Parses caller-owned bytes (tests, fuzzing); `bytes` must outlive the result.
  static SafetensorsFile parse(std::span<const std::byte> bytes, std::string name = "<memory>");

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::filesystem::path& path() const noexcept;
  uint64_t file_size() const noexcept;
  uint64_t header_size() const noexcept;  ///< N; the data buffer starts at 8 + N
  /// Tensors sorted by name.
  const std::vector<SafetensorsTensor>& tensors() const noexcept;
  const SafetensorsTensor* find(std::string_view name) const noexcept;
  /// The header's "__metadata__" (string to string), e.g. {"format": "pt"}.
  const std::map<std::string, std::string, std::less<>>& metadata() const noexcept;

 private:
  SafetensorsFile();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A model's weights: one file, or a directory with model.safetensors, or shards listed by
/// model.safetensors.index.json (or, lacking an index, every *.safetensors in the directory).
class SafetensorsModel {
 public:
  static SafetensorsModel open(const std::filesystem::path& path);

  SafetensorsModel(SafetensorsModel&&) noexcept;
  SafetensorsModel& operator=(SafetensorsModel&&) noexcept;
  ~SafetensorsModel();

  const SafetensorsTensor* find(std::string_view name) const noexcept;
  /// The tensor, or Error(not_found) naming it and the model.
  const SafetensorsTensor& get(std::string_view name) const;
  /// All tensors of all shards, sorted by name.
  const std::vector<const SafetensorsTensor*>& tensors() const noexcept;
  const std::vector<SafetensorsFile>& shards() const noexcept;
  /// Total bytes of all shard files.
  uint64_t size_bytes() const noexcept;
  const std::filesystem::path& path() const noexcept;

 private:
  SafetensorsModel();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes Safetensors files: tensors in insertion order, data contiguous, header padded with
/// spaces to a multiple of 8 so the buffer starts 8-aligned.
class SafetensorsWriter {
 public:
  SafetensorsWriter();
  ~SafetensorsWriter();
  void set_metadata(std::string key, std::string value);
  /// `data` must be exactly product(shape) × dtype_size bytes. copy=false borrows it (it must
  /// outlive write()).
  void add_tensor(std::string name, SafetensorsDtype dtype, std::vector<int64_t> shape,
                  std::span<const std::byte> data, bool copy = true);
  /// One file, written atomically (temp file + rename).
  void write(const std::filesystem::path& path) const;
  /// Shards of at most `max_shard_bytes` of tensor data each (a larger tensor gets its own
  /// shard) named <stem>-0000i-of-0000n.safetensors, plus <stem>.safetensors.index.json, in
  /// `dir`. Returns the shard paths.
  std::vector<std::filesystem::path> write_sharded(const std::filesystem::path& dir,
                                                   uint64_t max_shard_bytes,
                                                   std::string_view stem = "model") const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inference::formats
