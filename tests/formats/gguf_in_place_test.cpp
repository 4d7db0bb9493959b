// Large metadata arrays stay in the mapping until asked for: the typed getters read them in
// place, find() and metadata() parse them on first use, and both give the same values as a
// small (parsed at open) array; hostile bytes inside a large array still fail at open.
#include <gtest/gtest.h>

#include <string>

#include "formats/gguf.hpp"
#include "raw_gguf.hpp"

namespace inference::formats {
namespace {

using test::RawGguf;

constexpr uint32_t kArray = 9;
constexpr uint64_t kLarge = 300;  // above the in-place threshold (256)

std::string token(uint64_t i) {
  return i % 7 == 0 ? std::string() : "tok" + std::string(i % 23, 'x') + std::to_string(i);
}

// One file holding large arrays of strings, floats, int32, uint64 and bools, plus a small one.
RawGguf arrays_file(uint64_t big_u64 = 5) {
  RawGguf g;
  g.header(0, 6);
  g.str("strings").u32(kArray).u32(8).u64(kLarge);
  for (uint64_t i = 0; i < kLarge; ++i) g.str(token(i));
  g.str("floats").u32(kArray).u32(6).u64(kLarge);
  for (uint64_t i = 0; i < kLarge; ++i) g.pod(static_cast<float>(i) * 0.5f - 3.0f);
  g.str("ints").u32(kArray).u32(5).u64(kLarge);
  for (uint64_t i = 0; i < kLarge; ++i) g.pod(static_cast<int32_t>(i) - 100);
  g.str("u64s").u32(kArray).u32(10).u64(kLarge);
  for (uint64_t i = 0; i < kLarge; ++i) g.u64(i == kLarge - 1 ? big_u64 : i);
  g.str("bools").u32(kArray).u32(7).u64(kLarge);
  for (uint64_t i = 0; i < kLarge; ++i) g.pod(static_cast<uint8_t>(i & 1));
  g.str("small").u32(kArray).u32(5).u64(3).pod(int32_t{1}).pod(int32_t{2}).pod(int32_t{3});
  return g;
}

TEST(GgufInPlaceArrays, TypedGettersReadLargeArraysInPlace) {
  const RawGguf g = arrays_file();
  const auto file = GgufFile::parse(g.bytes());
  const auto strings = file.get_string_array("strings");
  ASSERT_EQ(strings.size(), kLarge);
  for (uint64_t i = 0; i < kLarge; ++i) EXPECT_EQ(strings[i], token(i)) << i;
  // Views into the caller's bytes, not copies.
  const auto* begin = reinterpret_cast<const char*>(g.bytes().data());
  EXPECT_GE(strings[1].data(), begin);
  EXPECT_LT(strings[1].data(), begin + g.size());

  const auto floats = file.get_float_array("floats");
  ASSERT_EQ(floats.size(), kLarge);
  EXPECT_EQ(floats[0], -3.0f);
  EXPECT_EQ(floats[kLarge - 1], static_cast<float>(kLarge - 1) * 0.5f - 3.0f);
  const auto ints = file.get_int_array("ints");
  ASSERT_EQ(ints.size(), kLarge);
  EXPECT_EQ(ints[0], -100);
  EXPECT_EQ(ints[kLarge - 1], static_cast<int64_t>(kLarge) - 101);
  EXPECT_EQ(file.get_int_array("u64s")[kLarge - 1], 5);
  // Integers read as numbers too, as for parsed arrays.
  EXPECT_EQ(file.get_float_array("ints")[1], -99.0f);
  EXPECT_EQ(file.get_int_array("small"), (std::vector<int64_t>{1, 2, 3}));
}

TEST(GgufInPlaceArrays, FindAndMetadataParseThemWithTheSameValues) {
  const RawGguf g = arrays_file();
  const auto file = GgufFile::parse(g.bytes());
  const GgufValue* strings = file.find("strings");
  ASSERT_NE(strings, nullptr);
  ASSERT_NE(strings->as_array(), nullptr);
  ASSERT_EQ(strings->as_array()->items.size(), kLarge);
  EXPECT_EQ(*strings->as_array()->items[8].as_string(), token(8));
  // The typed getter still agrees after the array was parsed.
  EXPECT_EQ(file.get_string_array("strings")[8], token(8));

  const auto& metadata = file.metadata();
  ASSERT_EQ(metadata.size(), 6u);
  for (const auto& [key, value] : metadata) {
    const GgufArray* array = value.as_array();
    ASSERT_NE(array, nullptr) << key;
    EXPECT_EQ(array->items.size(), key == "small" ? 3u : kLarge) << key;
    for (const auto& item : array->items) EXPECT_EQ(item.type, array->element_type) << key;
  }
  EXPECT_EQ(metadata[1].second.as_array()->items[2].as_double(), -2.0);
  EXPECT_EQ(metadata[4].second.as_array()->items[1].as_bool(), true);
}

TEST(GgufInPlaceArrays, WrongElementTypesAreErrorsNamingTheKey) {
  const RawGguf g = arrays_file(UINT64_MAX);
  const auto file = GgufFile::parse(g.bytes(), "arrays.gguf");
  auto expect_error = [](auto call, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_model);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([&] { file.get_string_array("floats"); }, "'floats' should be an array of STRING");
  expect_error([&] { file.get_float_array("strings"); }, "'strings' should be an array of numbers");
  expect_error([&] { file.get_float_array("bools"); }, "but is ARRAY of BOOL");
  expect_error([&] { file.get_int_array("floats"); }, "'floats' should be an array of integers");
  expect_error([&] { file.get_int_array("bools"); }, "'bools' should be an array of integers");
  // A UINT64 above INT64_MAX is not an int64_t.
  expect_error([&] { file.get_int_array("u64s"); }, "'u64s' should be an array of integers");
}

TEST(GgufInPlaceArrays, HostileBytesInsideALargeArrayFailAtOpen) {
  // A string in the middle claims more bytes than the file has.
  RawGguf g;
  g.header(0, 1);
  g.str("tokenizer.ggml.tokens").u32(kArray).u32(8).u64(kLarge);
  for (uint64_t i = 0; i < 100; ++i) g.str("a");
  g.u64(1000000).zeros(4000);  // enough bytes left for the count, not for this string
  try {
    GgufFile::parse(g.bytes(), "tokens.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_model);
    const std::string what = e.what();
    EXPECT_NE(what.find("tokens.gguf: metadata entry #0 'tokenizer.ggml.tokens'"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("a STRING value"), std::string::npos) << what;
  }
  // A scalar array shorter than its count.
  RawGguf s;
  s.header(0, 1).str("scores").u32(kArray).u32(6).u64(kLarge).zeros(4 * (kLarge - 1));
  EXPECT_THROW(GgufFile::parse(s.bytes()), Error);
}

}  // namespace
}  // namespace inference::formats
