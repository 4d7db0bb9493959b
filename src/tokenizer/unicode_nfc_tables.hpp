// tokenizer/unicode_nfc_tables.hpp — Unicode data for NFC (generated: gen_nfc_tables.py).
// All tables are sorted by their first field.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inference::tokenizer::nfc_tables {

struct CombiningClass {
  uint32_t cp;
  uint8_t ccc;
};
struct Decomposition {
  uint32_t cp;
  uint16_t offset;  ///< into kDecompositionData
  uint8_t length;
};
struct Composition {
  uint32_t first, second, composite;
};

extern const CombiningClass kCombiningClasses[];
extern const size_t kCombiningClassCount;
extern const uint32_t kDecompositionData[];
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;
extern const Composition kCompositions[];
extern const size_t kCompositionCount;

}  // namespace inference::tokenizer::nfc_tables
