// formats/byte_reader.hpp — bounds-checked little-endian reads over an untrusted byte span.
//
// Every read first checks that the bytes exist, so a parser built on it cannot read past the end
// whatever the file claims. Failures throw Error(invalid_model) with the file name, the field
// being read (set by the caller through set_field) and the absolute byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "inference/error.hpp"

namespace inference::formats {

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, std::string_view file_name)
      : bytes_(bytes), file_name_(file_name) {}

  uint64_t position() const noexcept { return pos_; }
  uint64_t size() const noexcept { return bytes_.size(); }
  uint64_t remaining() const noexcept { return bytes_.size() - pos_; }

  /// Names what is being read, for error messages ("metadata key #3 'general.name'").
  void set_field(std::string field) { field_ = std::move(field); }
  const std::string& field() const noexcept { return field_; }

  /// Throws Error(invalid_model): "<file>: <field> at byte <offset>: <what>".
  [[noreturn]] void fail(std::string_view what, uint64_t offset) const {
    throw Error(ErrorCode::invalid_model, file_name_ + ": " + field_ + " at byte " +
                                              std::to_string(offset) + ": " + std::string(what));
  }
  [[noreturn]] void fail(std::string_view what) const { fail(what, pos_); }

  /// Fails unless `n` more bytes exist, naming `what` they were supposed to hold.
  void require(uint64_t n, std::string_view what) const {
    if (n > remaining()) {
      fail(std::string(what) + " needs " + std::to_string(n) + " bytes but only " +
           std::to_string(remaining()) + " remain in the file (truncated?)");
    }
  }

  template <typename T>
  T read(std::string_view what) {
    require(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));  // unaligned-safe; host is little-endian
    pos_ += sizeof(T);
    return value;
  }

  /// A GGUF string: uint64 length then that many bytes. `max_len` bounds legitimate lengths.
  std::string_view read_string(std::string_view what, uint64_t max_len) {
    uint64_t start = pos_;
    auto len = read<uint64_t>(what);
    if (len > max_len) {
      fail(std::string(what) + " claims length " + std::to_string(len) + ", above the limit of " +
               std::to_string(max_len),
           start);
    }
    require(len, what);
    std::string_view text(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return text;
  }

  void skip_to(uint64_t offset) {
    if (offset > bytes_.size()) fail("offset " + std::to_string(offset) + " is past the end");
    pos_ = offset;
  }

 private:
  std::span<const std::byte> bytes_;
  std::string file_name_;
  std::string field_;
  uint64_t pos_ = 0;
};

}  // namespace inference::formats
