#include "engine/generation/utf8_assembler.hpp"

#include <gtest/gtest.h>

namespace inference::generation {
namespace {

TEST(Utf8Assembler, HoldsAnIncompleteCharacterUntilItCompletes) {
  Utf8Assembler a;
  EXPECT_EQ(a.push("caf\xC3"), "caf");
  EXPECT_EQ(a.push("\xA9!"), "\xC3\xA9!");
  EXPECT_EQ(a.push("\xF0\x9F"), "");
  EXPECT_EQ(a.push("\x98"), "");
  EXPECT_EQ(a.push("\x80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(a.flush(), "");
}

TEST(Utf8Assembler, PassesInvalidBytesThroughInsteadOfHoldingForever) {
  Utf8Assembler a;
  EXPECT_EQ(a.push("\x80\x80"), "\x80\x80");  // stray continuation bytes
  EXPECT_EQ(a.push("\xFF"), "\xFF");          // never a lead byte
  EXPECT_EQ(a.push("a\xE2\x82"), "a");
  EXPECT_EQ(a.flush(), "\xE2\x82");  // the end of the stream: emitted as it is
}

TEST(Utf8Assembler, IncompleteTailCountsOnlyMissingCharacters) {
  EXPECT_EQ(incomplete_utf8_tail("abc"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("\xC3"), 1u);
  EXPECT_EQ(incomplete_utf8_tail("\xC3\xA9"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("\xE2\x82"), 2u);
  EXPECT_EQ(incomplete_utf8_tail("\xF0\x9F\x98"), 3u);
}

}  // namespace
}  // namespace inference::generation
