// tokenizer/byte_level.hpp — GPT-2's reversible map between bytes and printable code points,
// used by byte-level BPE vocabularies (a space is stored as "Ġ", a newline as "Ċ", …).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inference::tokenizer {

/// The UTF-8 text of the code point that stands for `byte`.
std::string_view byte_to_unicode(uint8_t byte) noexcept;
/// The byte a code point stands for, if it is one of the 256 mapped code points.
std::optional<uint8_t> unicode_to_byte(uint32_t cp) noexcept;
/// Maps every code point of `encoded` back to its byte. Returns false (and leaves `out` with
/// what was decoded so far) at the first code point outside the map or on invalid UTF-8.
bool decode_byte_level(std::string_view encoded, std::string& out);
/// The byte-level text of raw bytes.
std::string encode_byte_level(std::string_view bytes);

}  // namespace inference::tokenizer
