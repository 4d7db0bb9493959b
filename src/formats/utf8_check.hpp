// formats/utf8_check.hpp — strict UTF-8 validation for strings read from model files (GGUF keys
// and string values must be UTF-8 by the spec), and a printable form of a string that is not.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace inference::formats {

/// The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629:
/// no overlong forms, no surrogates, nothing above U+10FFFF), or nullopt when `text` is valid.
std::optional<size_t> first_invalid_utf8(std::string_view text) noexcept;

/// `text` with every byte of an invalid sequence written as \xNN, shortened to about `max_chars`
/// characters: safe to put in an error message.
std::string printable_utf8(std::string_view text, size_t max_chars = 80);

}  // namespace inference::formats
