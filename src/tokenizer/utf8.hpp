// tokenizer/utf8.hpp — the UTF-8 handling the tokenizers need, with the exact leniency of the
// reference implementations (llama.cpp decodes invalid bytes as U+FFFD one byte at a time; HF
// and browsers replace maximal invalid subparts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace inference::tokenizer {

/// Length of the sequence a lead byte announces, from its high nibble only (1 for continuation
/// bytes), as llama.cpp's unicode_len_utf8 does. Used to split text into symbols.
inline size_t utf8_lead_length(unsigned char lead) noexcept {
  static constexpr unsigned char kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

void append_utf8(std::string& out, uint32_t cp);

/// Strictly valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF)?
bool is_valid_utf8(std::string_view text) noexcept;

/// llama.cpp's view of arbitrary bytes as text: decoded leniently (unicode_cpts_from_utf8) and
/// re-encoded, an undecodable byte becoming U+FFFD. Code points that cannot be re-encoded as
/// valid UTF-8 (surrogates, above U+10FFFF) also become U+FFFD. Valid input is returned as is.
std::string sanitize_utf8_lenient(std::string_view text);

/// Replaces each maximal invalid subpart by U+FFFD (the WHATWG / Rust from_utf8_lossy rule).
std::string lossy_utf8(std::string_view bytes);

/// Number of trailing bytes that are a proper prefix of a valid UTF-8 sequence (0 if the text
/// ends on a complete character or on bytes that can never become valid).
size_t incomplete_utf8_tail(std::string_view bytes) noexcept;

/// Decodes one strictly valid code point at `pos` (caller guarantees validity) and advances.
uint32_t decode_utf8_at(std::string_view text, size_t& pos) noexcept;

}  // namespace inference::tokenizer
