// chat/jinja/unicode.hpp — the few Unicode facts Python's str semantics need: UTF-8 code point
// boundaries (len, indexing and slicing count code points), whitespace as str.isspace() sees
// it, case mapping, and printability for repr().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace inference::chat::jinja {

/// True when `text` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;
/// Decodes the code point starting at `pos` (text must be valid UTF-8) and advances `pos`.
char32_t next_code_point(std::string_view text, size_t& pos) noexcept;
/// Appends the UTF-8 encoding of `cp`.
void append_utf8(std::string& out, char32_t cp);
/// Byte offsets of every code point start, followed by text.size().
std::vector<size_t> code_point_offsets(std::string_view text);
/// Number of code points.
size_t code_point_count(std::string_view text) noexcept;

/// Python's str.isspace() for one code point (also what `\s` matches in a str regex).
bool is_python_space(char32_t cp) noexcept;
/// Python's str.isprintable() for one code point (approximation: Cc, Cf, Zs, Zl, Zp, Co and
/// surrogates are not printable; unassigned code points are treated as printable).
bool is_python_printable(char32_t cp) noexcept;

/// Simple (one-to-one) case mapping from the C library's UTF-8 locale tables; 'ß' upper-cases to
/// "SS" as in Python. Throws Error(unsupported) for non-ASCII text when no UTF-8 locale exists.
std::string to_upper(std::string_view text);
std::string to_lower(std::string_view text);
char32_t upper_code_point(char32_t cp);
char32_t lower_code_point(char32_t cp);
/// Whether the code point has case (an upper- or lower-case letter), like Python's "cased".
bool is_cased(char32_t cp);

/// Python str.strip/lstrip/rstrip: `chars` empty means whitespace.
std::string_view strip(std::string_view text, std::string_view chars, bool left, bool right,
                       bool whitespace);

}  // namespace inference::chat::jinja
