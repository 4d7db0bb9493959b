// formats/mapped_file.hpp — a read-only memory mapping of a whole file (RAII).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace inference::formats {

class MappedFile {
 public:
  /// Maps `path` read-only. Throws inference::Error (not_found / invalid_model for a
  /// directory / backend for I/O errors) naming the file. An empty file maps to an empty span.
  explicit MappedFile(const std::filesystem::path& path);
  MappedFile(MappedFile&&) noexcept;
  MappedFile& operator=(MappedFile&&) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  const std::byte* data() const noexcept { return data_; }
  uint64_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  /// Drops this process's pages of [p, p + n) ∩ the mapping (whole pages inside it only), so a
  /// copy kept elsewhere does not count twice in the resident memory. The mapping stays valid:
  /// a later read faults the pages back in from the file. Anything outside the mapping (or an
  /// empty one) is left alone.
  void release_pages(const void* p, size_t n) const noexcept;

  /// Whether p points into the mapping.
  bool contains(const void* p) const noexcept {
    const auto* b = static_cast<const std::byte*>(p);
    return data_ != nullptr && b >= data_ && b < data_ + size_;
  }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace inference::formats
