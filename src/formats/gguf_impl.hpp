// formats/gguf_impl.hpp — the state behind GgufFile (private to the formats module).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "formats/gguf.hpp"

namespace inference::formats {

// Kept outside GgufFile so the parser (which cannot name the private Impl) can fill it.
struct GgufContents {
  std::optional<MappedFile> mapping;  ///< Absent for parse() of caller-owned bytes.
  std::span<const std::byte> bytes;
  std::filesystem::path path;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata;
  std::map<std::string, size_t, std::less<>> metadata_index;
  std::vector<GgufTensor> tensors;
  std::map<std::string, size_t, std::less<>> tensor_index;
};

struct GgufFile::Impl : GgufContents {};

/// Parses `impl.bytes` into `impl` (fills everything but mapping/bytes/path). Throws
/// Error(invalid_model / unsupported) naming `impl.path`, the field and the byte offset.
void parse_gguf(GgufContents& impl);

}  // namespace inference::formats
