// NFC against results of Python's unicodedata.normalize('NFC', …) (Unicode 14).
#include <gtest/gtest.h>

#include "tokenizer/unicode_nfc.hpp"

namespace inference::tokenizer {
namespace {

TEST(Nfc, AsciiAndLatin1AreUnchanged) {
  EXPECT_EQ(nfc_normalize("Hello, world! \xC3\xA9t\xC3\xA9"), "Hello, world! \xC3\xA9t\xC3\xA9");
  EXPECT_EQ(nfc_normalize(""), "");
}

TEST(Nfc, ComposesAndReorders) {
  EXPECT_EQ(nfc_normalize("e\xCC\x81"), "\xC3\xA9");                   // e + acute
  EXPECT_EQ(nfc_normalize("a\xCC\x82\xCC\xA3"), "\xE1\xBA\xAD");       // a + circumflex + dot below
  EXPECT_EQ(nfc_normalize("a\xCC\xA3\xCC\x82"), "\xE1\xBA\xAD");       // same, other order
  EXPECT_EQ(nfc_normalize("A\xCC\x8A\xCC\x81"), "\xC7\xBA");           // A + ring + acute
  EXPECT_EQ(nfc_normalize("\xC3\x85\xCC\x81"), "\xC7\xBA");            // Å + acute
  EXPECT_EQ(nfc_normalize("q\xCC\x87\xCC\xA3"), "q\xCC\xA3\xCC\x87");  // reordered, no composite
  EXPECT_EQ(nfc_normalize("x\xCC\x81\xCC\x81"), "x\xCC\x81\xCC\x81");  // blocked second acute
}

TEST(Nfc, SingletonsAndExclusionsDecompose) {
  EXPECT_EQ(nfc_normalize("\xE2\x84\xAB"), "\xC3\x85");                  // ANGSTROM SIGN
  EXPECT_EQ(nfc_normalize("\xE2\x84\xA6"), "\xCE\xA9");                  // OHM SIGN
  EXPECT_EQ(nfc_normalize("\xE0\xA5\x98"), "\xE0\xA4\x95\xE0\xA4\xBC");  // excluded composite
  EXPECT_EQ(nfc_normalize("\xE0\xBD\xB3"),
            "\xE0\xBD\xB1\xE0\xBD\xB2");  // non-starter decomposition
  EXPECT_EQ(nfc_normalize("\xCD\x84"), "\xCC\x88\xCC\x81");
}

TEST(Nfc, HangulComposesAlgorithmically) {
  EXPECT_EQ(nfc_normalize("\xE1\x84\x80\xE1\x85\xA1"), "\xEA\xB0\x80");              // L V
  EXPECT_EQ(nfc_normalize("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // L V T
  EXPECT_EQ(nfc_normalize("\xEA\xB0\x80\xE1\x86\xA8"), "\xEA\xB0\x81");              // LV T
}

TEST(Nfc, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(nfc_normalize("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
}

}  // namespace
}  // namespace inference::tokenizer
