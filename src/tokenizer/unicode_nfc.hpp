// tokenizer/unicode_nfc.hpp — Unicode Normalization Form C (canonical decomposition,
// canonical ordering, canonical composition), for tokenizer.json NFC normalizers.
#pragma once

#include <string>
#include <string_view>

namespace inference::tokenizer {

/// NFC of valid UTF-8 `text` (invalid input is first made valid with U+FFFD replacements).
std::string nfc_normalize(std::string_view text);

}  // namespace inference::tokenizer
