#include "tokenizer/unicode_nfc.hpp"

#include <algorithm>
#include <vector>

#include "tokenizer/unicode_nfc_tables.hpp"
#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {
namespace {

using namespace nfc_tables;

// Hangul syllables compose and decompose by arithmetic (Unicode 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

uint8_t combining_class(uint32_t cp) {
  if (cp < 0x300) return 0;
  const auto* end = kCombiningClasses + kCombiningClassCount;
  const auto* it = std::lower_bound(kCombiningClasses, end, cp,
                                    [](const CombiningClass& e, uint32_t v) { return e.cp < v; });
  return it != end && it->cp == cp ? it->ccc : 0;
}

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (cp >= 0xC0) {
    const auto* end = kDecompositions + kDecompositionCount;
    const auto* it = std::lower_bound(kDecompositions, end, cp,
                                      [](const Decomposition& e, uint32_t v) { return e.cp < v; });
    if (it != end && it->cp == cp) {
      out.insert(out.end(), kDecompositionData + it->offset,
                 kDecompositionData + it->offset + it->length);
      return;
    }
  }
  out.push_back(cp);
}

// The primary composite of (first, second), or 0.
uint32_t compose(uint32_t first, uint32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase &&
      second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 &&
      second > kTBase && second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  const auto* end = kCompositions + kCompositionCount;
  const auto* it =
      std::lower_bound(kCompositions, end, std::pair{first, second},
                       [](const Composition& e, std::pair<uint32_t, uint32_t> v) {
                         return e.first != v.first ? e.first < v.first : e.second < v.second;
                       });
  return it != end && it->first == first && it->second == second ? it->composite : 0;
}

}  // namespace

std::string nfc_normalize(std::string_view input) {
  // Code points below U+0300 are never decomposed, reordered or composed with each other,
  // and their UTF-8 lead bytes are all below 0xCC: such text is already NFC.
  if (std::all_of(input.begin(), input.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0xCC; }) &&
      is_valid_utf8(input)) {
    return std::string(input);
  }
  const std::string text = is_valid_utf8(input) ? std::string(input) : lossy_utf8(input);
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) decompose(decode_utf8_at(text, pos), cps);
  // Canonical ordering: stable-sort each run of non-starters by combining class.
  for (size_t i = 0; i < cps.size();) {
    if (combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
    std::stable_sort(
        cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j),
        [](uint32_t a, uint32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  // Canonical composition.
  std::vector<uint32_t> out;
  out.reserve(cps.size());
  size_t starter = SIZE_MAX;  // index in `out` of the last starter
  int last_class = -1;        // class of the last character appended after the starter
  for (uint32_t cp : cps) {
    const int cls = combining_class(cp);
    if (starter != SIZE_MAX) {
      // Not blocked: nothing between, or everything between has a lower class.
      const bool blocked = last_class != -1 && (last_class == 0 || last_class >= cls);
      if (!blocked) {
        if (const uint32_t composite = compose(out[starter], cp)) {
          out[starter] = composite;
          continue;
        }
      }
    }
    if (cls == 0) {
      starter = out.size();
      last_class = -1;
    } else {
      last_class = cls;
    }
    out.push_back(cp);
  }
  std::string result;
  result.reserve(text.size());
  for (uint32_t cp : out) append_utf8(result, cp);
  return result;
}

}  // namespace inference::tokenizer
