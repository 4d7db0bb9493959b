#include "tokenizer/byte_level.hpp"

#include <array>

#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {
namespace {

// Printable bytes map to themselves; the other 68 bytes map, in order, to U+0100 upwards.
struct Tables {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_text{};
  std::array<int16_t, 324> from_cp{};  // code points < 324 cover the whole image of the map

  Tables() {
    from_cp.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_cp[b] = printable ? b : next++;
      from_cp[to_cp[b]] = static_cast<int16_t>(b);
      append_utf8(to_text[b], to_cp[b]);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

std::string_view byte_to_unicode(uint8_t byte) noexcept {
  return tables().to_text[byte];
}

std::optional<uint8_t> unicode_to_byte(uint32_t cp) noexcept {
  const auto& t = tables();
  if (cp >= t.from_cp.size() || t.from_cp[cp] < 0) return std::nullopt;
  return static_cast<uint8_t>(t.from_cp[cp]);
}

bool decode_byte_level(std::string_view encoded, std::string& out) {
  size_t pos = 0;
  while (pos < encoded.size()) {
    const auto lead = static_cast<unsigned char>(encoded[pos]);
    const size_t len = utf8_lead_length(lead);
    if (pos + len > encoded.size() || !is_valid_utf8(encoded.substr(pos, len))) return false;
    const uint32_t cp = decode_utf8_at(encoded, pos);
    const auto byte = unicode_to_byte(cp);
    if (!byte) return false;
    out.push_back(static_cast<char>(*byte));
  }
  return true;
}

std::string encode_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out.append(byte_to_unicode(static_cast<uint8_t>(c)));
  return out;
}

}  // namespace inference::tokenizer
