// UTF-8 helpers: validation, the two replacement rules, and incomplete-tail detection.
#include <gtest/gtest.h>

#include "tokenizer/byte_level.hpp"
#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {
namespace {

TEST(Utf8, Validation) {
  EXPECT_TRUE(is_valid_utf8("abc \xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE4\xB8"));          // truncated
}

TEST(Utf8, LossyReplacesMaximalSubparts) {
  EXPECT_EQ(lossy_utf8("a\xE4\xB8"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");  // one U+FFFD for a truncated sequence
  EXPECT_EQ(lossy_utf8("\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(lossy_utf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
}

TEST(Utf8, LenientSanitizeIsPerByte) {
  EXPECT_EQ(sanitize_utf8_lenient("a\xE4\xB8"
                                  "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_utf8_lenient("ok"), "ok");
}

TEST(Utf8, IncompleteTail) {
  EXPECT_EQ(incomplete_utf8_tail("ab"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("a\xE4"), 1u);
  EXPECT_EQ(incomplete_utf8_tail("a\xE4\xB8"), 2u);
  EXPECT_EQ(incomplete_utf8_tail("a\xE4\xB8\xAD"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incomplete_utf8_tail("a\xFF"), 0u);  // can never become valid
  EXPECT_EQ(incomplete_utf8_tail("a\x80"), 0u);
}

TEST(ByteLevel, RoundTripsEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string back;
  ASSERT_TRUE(decode_byte_level(encode_byte_level(all), back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");   // "Ġ"
  EXPECT_EQ(byte_to_unicode('\n'), "\xC4\x8A");  // "Ċ"
}

}  // namespace
}  // namespace inference::tokenizer
