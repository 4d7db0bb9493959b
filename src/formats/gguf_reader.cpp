// formats/gguf_reader.cpp — parses and validates a GGUF v2/v3 image.
//
// Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv, n_kv × (string key,
// u32 type, value), n_tensors × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type,
// u64 offset), padding to general.alignment, tensor data. Before any allocation sized by a
// count from the file, the count is checked against the bytes that could back it, so a hostile
// header cannot make us allocate more than a small multiple of the file's own size. Keys,
// string values and tensor names must be UTF-8 (the spec says so; a name that is not cannot be
// printed, compared or re-encoded faithfully), tensor names at most 64 bytes, and
// general.alignment a UINT32 power of two.
#include <bit>
#include <cstdio>
#include <limits>
#include <optional>

#include "formats/byte_reader.hpp"
#include "formats/gguf_impl.hpp"
#include "formats/utf8_check.hpp"

namespace inference::formats {
namespace {

constexpr uint64_t kMaxKeyLength = 65535;          // GGUF spec: keys are at most 65535 bytes.
constexpr uint64_t kMaxTensorNameLength = 64;      // GGUF spec: "at most 64 bytes long".
constexpr uint64_t kMaxStringLength = 1ull << 32;  // longest metadata string (chat templates…)
constexpr uint32_t kMaxDims = 4;                   // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;                  // nested arrays; bounds recursion
// Every parsed value costs a GgufValue (~50 bytes) however small it is in the file; bounding the
// total keeps a 100 MB file of u8 arrays from asking for 5 GB. Real vocabularies use < 2M.
constexpr uint64_t kMaxMetadataValues = 1ull << 24;

// Smallest encoding of one value of each type, to bound element counts by the bytes left.
uint64_t min_encoded_size(GgufType type) {
  switch (type) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::BOOL:
      return 1;
    case GgufType::UINT16:
    case GgufType::INT16:
      return 2;
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::FLOAT32:
      return 4;
    case GgufType::UINT64:
    case GgufType::INT64:
    case GgufType::FLOAT64:
    case GgufType::STRING:
      return 8;  // the length prefix
    case GgufType::ARRAY:
      return 12;  // element type + count
  }
  return 1;
}

bool known_type(uint32_t raw) {
  return raw <= static_cast<uint32_t>(GgufType::FLOAT64);
}

class GgufParser {
 public:
  explicit GgufParser(GgufContents& impl) : impl_(impl), in_(impl.bytes, impl.path.string()) {}
  /// Reads values from `bytes` (a part of impl.bytes) instead of the whole file.
  GgufParser(GgufContents& impl, std::span<const std::byte> bytes)
      : impl_(impl), in_(bytes, impl.path.string()) {}

  void parse() {
    parse_header();
    parse_metadata();
    apply_alignment();
    parse_tensor_infos();
    place_data_section();
  }

 private:
  void parse_header() {
    in_.set_field("magic");
    in_.require(4, "the GGUF magic");
    auto magic = in_.read<uint32_t>("the GGUF magic");
    if (magic != 0x46554747u) {  // "GGUF" read as little-endian u32
      in_.fail("not a GGUF file (magic is not \"GGUF\")", 0);
    }
    in_.set_field("version");
    impl_.version = in_.read<uint32_t>("the version");
    if (impl_.version == 1) {
      throw Error(ErrorCode::unsupported,
                  impl_.path.string() +
                      ": version at byte 4: GGUF version 1 (32-bit counts, 2023) "
                      "is not supported; re-convert the model to GGUF v3");
    }
    if (impl_.version != 2 && impl_.version != 3) {
      uint32_t swapped = __builtin_bswap32(impl_.version);
      if (swapped == 2 || swapped == 3) {
        throw Error(ErrorCode::unsupported,
                    impl_.path.string() + ": version at byte 4: big-endian GGUF is not supported");
      }
      in_.fail("unknown GGUF version " + std::to_string(impl_.version) + " (supported: 2, 3)", 4);
    }
    in_.set_field("tensor count");
    n_tensors_ = in_.read<uint64_t>("the tensor count");
    in_.set_field("metadata count");
    n_kv_ = in_.read<uint64_t>("the metadata count");
  }

  void parse_metadata() {
    // Each entry needs at least an empty key (8), a type (4) and a 1-byte value.
    if (n_kv_ > in_.remaining() / 13) {
      in_.fail("metadata count " + std::to_string(n_kv_) + " cannot fit in the " +
                   std::to_string(in_.remaining()) + " bytes left",
               16);
    }
    impl_.metadata.reserve(n_kv_);
    for (uint64_t i = 0; i < n_kv_; ++i) {
      in_.set_field("metadata entry #" + std::to_string(i) + " key");
      std::string key(read_utf8_string("the key", kMaxKeyLength));
      in_.set_field("metadata entry #" + std::to_string(i) + " '" + key + "'");
      if (key.empty()) in_.fail("empty metadata key");
      uint64_t type_at = in_.position();
      auto raw_type = in_.read<uint32_t>("the value type");
      if (!known_type(raw_type)) {
        in_.fail("unknown metadata value type " + std::to_string(raw_type), type_at);
      }
      GgufValue value = read_value(static_cast<GgufType>(raw_type), 0);
      auto [it, inserted] = impl_.metadata_index.emplace(key, impl_.metadata.size());
      if (!inserted) in_.fail("duplicate metadata key '" + key + "'", type_at);
      if (in_place_) {
        in_place_->entry = impl_.metadata.size();
        impl_.in_place.push_back(*in_place_);
        in_place_.reset();
      }
      impl_.metadata.emplace_back(std::move(key), std::move(value));
    }
  }

  void count_values(uint64_t n) {
    values_ += n;
    if (values_ > kMaxMetadataValues) {
      in_.fail("more than " + std::to_string(kMaxMetadataValues) +
               " metadata values in total; refusing to load");
    }
  }

  GgufValue read_value(GgufType type, int depth) {
    GgufValue out;
    out.type = type;
    switch (type) {
      case GgufType::UINT8:
        out.value = in_.read<uint8_t>("a UINT8 value");
        break;
      case GgufType::INT8:
        out.value = in_.read<int8_t>("an INT8 value");
        break;
      case GgufType::UINT16:
        out.value = in_.read<uint16_t>("a UINT16 value");
        break;
      case GgufType::INT16:
        out.value = in_.read<int16_t>("an INT16 value");
        break;
      case GgufType::UINT32:
        out.value = in_.read<uint32_t>("a UINT32 value");
        break;
      case GgufType::INT32:
        out.value = in_.read<int32_t>("an INT32 value");
        break;
      case GgufType::FLOAT32:
        out.value = in_.read<float>("a FLOAT32 value");
        break;
      case GgufType::UINT64:
        out.value = in_.read<uint64_t>("a UINT64 value");
        break;
      case GgufType::INT64:
        out.value = in_.read<int64_t>("an INT64 value");
        break;
      case GgufType::FLOAT64:
        out.value = in_.read<double>("a FLOAT64 value");
        break;
      case GgufType::BOOL:
        // Read as a byte: loading an arbitrary byte into a bool is undefined behaviour.
        out.value = in_.read<uint8_t>("a BOOL value") != 0;
        break;
      case GgufType::STRING:
        out.value = std::string(read_utf8_string("a STRING value", kMaxStringLength));
        break;
      case GgufType::ARRAY:
        out.value = read_array(depth);
        break;
    }
    return out;
  }

  GgufArray read_array(int depth) {
    if (depth >= kMaxArrayDepth) in_.fail("arrays nested deeper than 8 levels");
    uint64_t at = in_.position();
    auto raw_type = in_.read<uint32_t>("the array element type");
    if (!known_type(raw_type)) {
      in_.fail("unknown array element type " + std::to_string(raw_type), at);
    }
    GgufArray array;
    array.element_type = static_cast<GgufType>(raw_type);
    uint64_t count_at = in_.position();
    auto count = in_.read<uint64_t>("the array length");
    uint64_t min_size = min_encoded_size(array.element_type);
    if (count > in_.remaining() / min_size) {
      in_.fail("array of " + std::to_string(count) + " " +
                   std::string(to_string(array.element_type)) + " cannot fit in the " +
                   std::to_string(in_.remaining()) + " bytes left",
               count_at);
    }
    count_values(count);
    if (depth == 0 && array.element_type != GgufType::ARRAY && count >= kInPlaceArrayMinElements) {
      skip_items(array.element_type, count);
      return array;
    }
    read_items(array, count, depth);
    return array;
  }

 public:
  void read_items(GgufArray& array, uint64_t count, int depth) {
    array.items.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      if (array.element_type == GgufType::STRING) {
        // Read here rather than in read_value so that an error names the element.
        GgufValue item;
        item.type = GgufType::STRING;
        item.value = std::string(
            read_utf8_string("a STRING value", kMaxStringLength, static_cast<int64_t>(i)));
        array.items.push_back(std::move(item));
        continue;
      }
      array.items.push_back(read_value(array.element_type, depth + 1));
    }
  }

 private:
  // Validates `count` elements without keeping them, and notes where they are (in_place_).
  void skip_items(GgufType type, uint64_t count) {
    const uint64_t begin = in_.position();
    if (type == GgufType::STRING) {
      for (uint64_t i = 0; i < count; ++i) {
        read_utf8_string("a STRING value", kMaxStringLength, static_cast<int64_t>(i));
      }
    } else {
      // Scalars have a fixed size; the caller checked that count * size fits in what is left.
      in_.skip_to(begin + count * min_encoded_size(type));
    }
    in_place_ = InPlaceArray{0, type, count, impl_.bytes.subspan(begin, in_.position() - begin)};
  }

  /// A GGUF string that must be valid UTF-8: the error names `what` (and the array element, if
  /// `element` >= 0), shows the string with the bad bytes escaped, and gives the file offset of
  /// the first bad byte. The element's name is built only on failure: vocabularies have 10^5.
  std::string_view read_utf8_string(std::string_view what, uint64_t max_len, int64_t element = -1) {
    const std::string_view text = in_.read_string(what, max_len);
    if (const auto bad = first_invalid_utf8(text)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X",
                    static_cast<unsigned>(static_cast<uint8_t>(text[*bad])));
      const std::string name =
          element < 0 ? std::string(what)
                      : std::string(what) + " (element #" + std::to_string(element) + ")";
      in_.fail(name + " is not valid UTF-8 (byte " + hex + " at offset " + std::to_string(*bad) +
                   " of \"" + printable_utf8(text) + "\")",
               in_.position() - text.size() + *bad);
    }
    return text;
  }

  void apply_alignment() {
    auto it = impl_.metadata_index.find("general.alignment");
    if (it == impl_.metadata_index.end()) return;
    in_.set_field("metadata 'general.alignment'");
    const GgufValue& value = impl_.metadata[it->second].second;
    // The spec types it UINT32; another type is a writer bug whose intent we should not guess.
    if (value.type != GgufType::UINT32) {
      in_.fail("alignment has type " + std::string(to_string(value.type)) + ", not UINT32", 0);
    }
    auto alignment = value.as_int();
    if (!alignment || *alignment <= 0 || !std::has_single_bit(static_cast<uint64_t>(*alignment)) ||
        *alignment > (1 << 20)) {
      in_.fail(
          "alignment " + std::to_string(*alignment) + " is not a power of two between 1 and 1 MiB",
          0);
    }
    impl_.alignment = static_cast<uint64_t>(*alignment);
  }

  void parse_tensor_infos() {
    // Each entry needs at least an empty name (8), n_dims (4), one dim (8), type (4), offset (8).
    if (n_tensors_ > in_.remaining() / 32) {
      in_.set_field("tensor count");
      in_.fail("tensor count " + std::to_string(n_tensors_) + " cannot fit in the " +
                   std::to_string(in_.remaining()) + " bytes left",
               8);
    }
    impl_.tensors.reserve(n_tensors_);
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      in_.set_field("tensor #" + std::to_string(i) + " name");
      GgufTensor tensor;
      // Read with the key limit so that a long name can be shown in the error.
      tensor.name = std::string(read_utf8_string("the tensor name", kMaxKeyLength));
      if (tensor.name.size() > kMaxTensorNameLength) {
        in_.fail("tensor name '" + printable_utf8(tensor.name) + "' is " +
                     std::to_string(tensor.name.size()) + " bytes long; GGUF allows at most " +
                     std::to_string(kMaxTensorNameLength),
                 in_.position() - tensor.name.size());
      }
      in_.set_field("tensor #" + std::to_string(i) + " '" + tensor.name + "'");
      uint64_t dims_at = in_.position();
      auto n_dims = in_.read<uint32_t>("the dimension count");
      if (n_dims == 0 || n_dims > kMaxDims) {
        in_.fail("dimension count " + std::to_string(n_dims) + " is not between 1 and 4", dims_at);
      }
      tensor.ne.reserve(n_dims);
      uint64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        uint64_t dim_at = in_.position();
        auto dim = in_.read<uint64_t>("a dimension");
        if (dim == 0 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          in_.fail("dimension ne[" + std::to_string(d) + "] = " + std::to_string(dim) +
                       " is not a positive 63-bit size",
                   dim_at);
        }
        if (__builtin_mul_overflow(n_elements, dim, &n_elements) ||
            n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          in_.fail("element count overflows 63 bits", dim_at);
        }
        tensor.ne.push_back(static_cast<int64_t>(dim));
      }
      tensor.n_elements = n_elements;
      uint64_t type_at = in_.position();
      auto raw_type = in_.read<uint32_t>("the tensor type");
      auto info = ggml_type_info(raw_type);
      if (!info) in_.fail("unknown ggml tensor type id " + std::to_string(raw_type), type_at);
      tensor.type = info->type;
      auto row_bytes = ggml_row_bytes(info->type, static_cast<uint64_t>(tensor.ne[0]));
      if (static_cast<uint64_t>(tensor.ne[0]) % info->block_size != 0) {
        in_.fail("row length " + std::to_string(tensor.ne[0]) + " is not a multiple of the " +
                     std::string(info->name) + " block size " + std::to_string(info->block_size),
                 dims_at);
      }
      if (!row_bytes || __builtin_mul_overflow(*row_bytes, tensor.n_rows(), &tensor.n_bytes)) {
        in_.fail("byte size overflows 64 bits", dims_at);
      }
      uint64_t offset_at = in_.position();
      tensor.offset = in_.read<uint64_t>("the data offset");
      if (tensor.offset % impl_.alignment != 0) {
        in_.fail("data offset " + std::to_string(tensor.offset) + " is not a multiple of the " +
                     "alignment " + std::to_string(impl_.alignment),
                 offset_at);
      }
      offsets_at_.push_back(offset_at);
      auto [it, inserted] = impl_.tensor_index.emplace(tensor.name, impl_.tensors.size());
      if (!inserted) in_.fail("duplicate tensor name '" + tensor.name + "'", dims_at);
      impl_.tensors.push_back(std::move(tensor));
    }
  }

  void place_data_section() {
    uint64_t end_of_infos = in_.position();
    uint64_t padded = end_of_infos + (impl_.alignment - end_of_infos % impl_.alignment) %
                                         impl_.alignment;  // no overflow: end <= file size
    impl_.data_offset = padded;
    uint64_t file_size = in_.size();
    for (size_t i = 0; i < impl_.tensors.size(); ++i) {
      GgufTensor& tensor = impl_.tensors[i];
      in_.set_field("tensor #" + std::to_string(i) + " '" + tensor.name + "'");
      uint64_t begin = 0;
      uint64_t end = 0;
      if (__builtin_add_overflow(padded, tensor.offset, &begin) ||
          __builtin_add_overflow(begin, tensor.n_bytes, &end) || end > file_size) {
        in_.fail("data [" + std::to_string(tensor.offset) + ", +" + std::to_string(tensor.n_bytes) +
                     ") relative to the data section at " + std::to_string(padded) +
                     " lies outside the " + std::to_string(file_size) + "-byte file",
                 offsets_at_[i]);
      }
      tensor.data = impl_.bytes.subspan(begin, tensor.n_bytes);
    }
  }

  GgufContents& impl_;
  ByteReader in_;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  uint64_t values_ = 0;
  std::vector<uint64_t> offsets_at_;
  std::optional<InPlaceArray> in_place_;  // set by skip_items for the entry being read
};

}  // namespace

void parse_gguf(GgufContents& impl) {
  GgufParser(impl).parse();
}

void parse_in_place_array(GgufContents& impl, InPlaceArray& array) {
  GgufArray* items = std::get_if<GgufArray>(&impl.metadata[array.entry].second.value);
  if (items == nullptr || array.parsed) return;
  GgufParser parser(impl, array.encoded);
  parser.read_items(*items, array.count, 0);
  array.parsed = true;
}

}  // namespace inference::formats
