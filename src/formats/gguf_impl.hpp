// formats/gguf_impl.hpp — the state behind GgufFile (private to the formats module).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "formats/gguf.hpp"

namespace inference::formats {

// A large top-level array of scalars or strings (a vocabulary, its merges, scores, types) is
// validated at open but left in the mapping: parsed, each element would cost a GgufValue
// (~48 bytes, plus a heap block for strings over 15 bytes), about 20-35 MB for a 150k-260k
// vocabulary that an engine would then keep for its whole life. The typed getters decode it
// straight from the mapping; find() and metadata() parse it on first use (see GgufFile).
struct InPlaceArray {
  size_t entry = 0;  ///< index into GgufContents::metadata
  GgufType element_type = GgufType::UINT8;
  uint64_t count = 0;
  std::span<const std::byte> encoded;  ///< the elements as stored (after type and count)
  bool parsed = false;                 ///< items of the metadata entry filled in
};

/// Arrays of at least this many scalar or string elements stay in the mapping until asked for.
inline constexpr uint64_t kInPlaceArrayMinElements = 256;

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
  std::vector<InPlaceArray> in_place;  ///< few entries (one per large array)
  std::mutex parse_mutex;              ///< guards parsing in-place arrays from const accessors
};

struct GgufFile::Impl : GgufContents {};

/// Parses `impl.bytes` into `impl` (fills everything but mapping/bytes/path). Throws
/// Error(invalid_model / unsupported) naming `impl.path`, the field and the byte offset.
void parse_gguf(GgufContents& impl);

/// Parses the elements of `array` (validated by parse_gguf) into its metadata entry's items.
void parse_in_place_array(GgufContents& impl, InPlaceArray& array);

}  // namespace inference::formats
