// Hostile GGUF images: each must fail with Error(invalid_model) (or unsupported) naming the
// problem, quickly and without allocating in proportion to a size the file merely claims.
#include <gtest/gtest.h>

#include <limits>

#include "formats/gguf.hpp"
#include "raw_gguf.hpp"
#include "support/testdata.hpp"

namespace inference::formats {
namespace {

using test::RawGguf;

// Parses `bytes` expecting failure; returns the message.
std::string expect_invalid(std::span<const std::byte> bytes,
                           ErrorCode code = ErrorCode::invalid_model) {
  try {
    GgufFile::parse(bytes, "hostile.gguf");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find("hostile.gguf"), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "parse succeeded";
  return "";
}

// A small valid file: 2 KVs, two F32 tensors.
RawGguf valid_file() {
  RawGguf g;
  g.header(2, 2).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 1);
  g.tensor("a", {4, 2}, 0, 0).tensor("b", {8}, 0, 32);
  g.pad_to(32).zeros(32 + 32);
  return g;
}

TEST(GgufHostile, TheBaselineIsValid) {
  RawGguf g = valid_file();
  GgufFile file = GgufFile::parse(g.bytes());
  EXPECT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.tensors()[1].data.size(), 32u);
}

TEST(GgufHostile, TruncatedAtEveryByteFails) {
  RawGguf g = valid_file();
  for (size_t n = 0; n < g.size(); ++n) {
    SCOPED_TRACE(n);
    expect_invalid(g.bytes().first(n));
  }
}

TEST(GgufHostile, TruncatedRealModelFailsEverywhereInTheHeader) {
  INFERENCE_REQUIRE_TESTDATA();
  std::string image = test::read_file(test::testdata_dir() / "models/llama/llama-Q4_K_M.gguf");
  auto bytes = std::as_bytes(std::span(image.data(), image.size()));
  GgufFile whole = GgufFile::parse(bytes);
  // Every cut inside the header or the data fails; a stride keeps the test fast.
  for (size_t n = 0; n < bytes.size(); n += (n < whole.data_offset() ? 7 : 4093)) {
    SCOPED_TRACE(n);
    expect_invalid(bytes.first(n));
  }
}

TEST(GgufHostile, BadMagicAndVersions) {
  RawGguf bad_magic;
  bad_magic.u32(0x46554746).u32(3).u64(0).u64(0);
  EXPECT_NE(expect_invalid(bad_magic.bytes()).find("not a GGUF file"), std::string::npos);

  RawGguf v1;
  v1.header(0, 0, 1);
  EXPECT_NE(expect_invalid(v1.bytes(), ErrorCode::unsupported).find("version 1"),
            std::string::npos);
  RawGguf v9;
  v9.header(0, 0, 9);
  EXPECT_NE(expect_invalid(v9.bytes()).find("version 9"), std::string::npos);
  RawGguf big_endian;
  big_endian.header(0, 0, 0x03000000);
  EXPECT_NE(expect_invalid(big_endian.bytes(), ErrorCode::unsupported).find("big-endian"),
            std::string::npos);
  RawGguf v2;
  v2.header(0, 0, 2);
  EXPECT_EQ(GgufFile::parse(v2.bytes()).version(), 2u);
}

TEST(GgufHostile, AbsurdCountsAreRejectedBeforeAllocating) {
  constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();
  for (uint64_t n : {kHuge, kHuge / 2, uint64_t{1} << 40, uint64_t{1000}}) {
    RawGguf kv;
    kv.header(0, n);
    EXPECT_NE(expect_invalid(kv.bytes()).find("metadata count"), std::string::npos);
    RawGguf tensors;
    tensors.header(n, 0);
    EXPECT_NE(expect_invalid(tensors.bytes()).find("tensor count"), std::string::npos);
  }
}

TEST(GgufHostile, AbsurdLengths) {
  RawGguf key;
  key.header(0, 1).u64(uint64_t{1} << 62).u32(4).u32(0);
  EXPECT_NE(expect_invalid(key.bytes()).find("key"), std::string::npos);

  RawGguf value;
  value.header(0, 1).str("k").u32(8).u64(uint64_t{1} << 31).zeros(16);
  EXPECT_NE(expect_invalid(value.bytes()).find("'k'"), std::string::npos);

  RawGguf array;
  array.header(0, 1).str("k").u32(9).u32(0).u64(uint64_t{1} << 60).zeros(16);
  EXPECT_NE(expect_invalid(array.bytes()).find("array of"), std::string::npos);

  RawGguf strings;  // 2^40 strings of at least 8 bytes each
  strings.header(0, 1).str("k").u32(9).u32(8).u64(uint64_t{1} << 40).zeros(64);
  expect_invalid(strings.bytes());

  RawGguf name;
  name.header(1, 0).u64(uint64_t{1} << 50).zeros(64);
  EXPECT_NE(expect_invalid(name.bytes()).find("tensor #0"), std::string::npos);
}

TEST(GgufHostile, NestedArraysAreBounded) {
  RawGguf g;
  g.header(0, 1).str("deep").u32(9);
  for (int i = 0; i < 100; ++i) g.u32(9).u64(1);
  g.u32(0).u64(0);
  EXPECT_NE(expect_invalid(g.bytes()).find("nested"), std::string::npos);

  RawGguf ok;  // two levels are fine
  ok.header(0, 1).str("nested").u32(9).u32(9).u64(2).u32(4).u64(1).u32(7).u32(0).u64(0);
  GgufFile file = GgufFile::parse(ok.bytes());
  const GgufArray* outer = file.find("nested")->as_array();
  ASSERT_NE(outer, nullptr);
  ASSERT_EQ(outer->items.size(), 2u);
  EXPECT_EQ(outer->items[0].as_array()->items[0].as_int(), 7);
  EXPECT_TRUE(outer->items[1].as_array()->items.empty());
}

TEST(GgufHostile, UnknownValueTypes) {
  RawGguf g;
  g.header(0, 1).str("k").u32(13).u32(0);
  EXPECT_NE(expect_invalid(g.bytes()).find("unknown metadata value type 13"), std::string::npos);
  RawGguf a;
  a.header(0, 1).str("k").u32(9).u32(99).u64(0);
  EXPECT_NE(expect_invalid(a.bytes()).find("unknown array element type 99"), std::string::npos);
}

TEST(GgufHostile, DuplicateNames) {
  RawGguf keys;
  keys.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  EXPECT_NE(expect_invalid(keys.bytes()).find("duplicate metadata key 'a.b'"), std::string::npos);
  RawGguf tensors;
  tensors.header(2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad_to(32).zeros(64);
  EXPECT_NE(expect_invalid(tensors.bytes()).find("duplicate tensor name 'w'"), std::string::npos);
}

TEST(GgufHostile, BadTensorEntries) {
  auto one = [](std::vector<uint64_t> ne, uint32_t type, uint64_t offset, size_t data) {
    RawGguf g;
    g.header(1, 0).tensor("t", std::move(ne), type, offset).pad_to(32).zeros(data);
    return g;
  };
  EXPECT_NE(expect_invalid(one({4}, 77, 0, 32).bytes()).find("unknown ggml tensor type id 77"),
            std::string::npos);
  EXPECT_NE(expect_invalid(one({4}, 4, 0, 32).bytes()).find("type id 4"), std::string::npos);
  EXPECT_NE(expect_invalid(one({0}, 0, 0, 32).bytes()).find("ne[0]"), std::string::npos);
  EXPECT_NE(expect_invalid(one({}, 0, 0, 32).bytes()).find("dimension count 0"), std::string::npos);
  EXPECT_NE(expect_invalid(one({1, 1, 1, 1, 1}, 0, 0, 32).bytes()).find("dimension count 5"),
            std::string::npos);
  EXPECT_NE(expect_invalid(one({uint64_t{1} << 63}, 0, 0, 32).bytes()).find("63-bit"),
            std::string::npos);
  EXPECT_NE(expect_invalid(one({uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0, 32).bytes())
                .find("overflows"),
            std::string::npos);
  // 2^62 F32 elements: the element count fits in 63 bits, the byte count not in 64.
  EXPECT_NE(expect_invalid(one({uint64_t{1} << 62}, 0, 0, 32).bytes()).find("overflows"),
            std::string::npos);
  EXPECT_NE(expect_invalid(one({100}, 12, 0, 32).bytes()).find("block size 256"),
            std::string::npos);
  EXPECT_NE(expect_invalid(one({4}, 0, 3, 32).bytes()).find("not a multiple of the alignment"),
            std::string::npos);
  EXPECT_NE(expect_invalid(one({4}, 0, 64, 32).bytes()).find("outside"), std::string::npos);
  EXPECT_NE(expect_invalid(one({4}, 0, uint64_t{1} << 63, 32).bytes()).find("outside"),
            std::string::npos);
  EXPECT_NE(expect_invalid(one({16}, 0, 0, 32).bytes()).find("outside"), std::string::npos);
}

TEST(GgufHostile, BadAlignment) {
  for (uint32_t alignment : {0u, 3u, 48u, 1u << 30}) {
    RawGguf g;
    g.header(0, 1).kv_u32("general.alignment", alignment);
    EXPECT_NE(expect_invalid(g.bytes()).find("alignment"), std::string::npos) << alignment;
  }
  RawGguf text;
  text.header(0, 1).kv_str("general.alignment", "32");
  expect_invalid(text.bytes());
  RawGguf ok;
  ok.header(1, 1).kv_u32("general.alignment", 64).tensor("t", {4}, 0, 0).pad_to(64).zeros(16);
  GgufFile file = GgufFile::parse(ok.bytes());
  EXPECT_EQ(file.alignment(), 64u);
  EXPECT_EQ(file.data_offset() % 64, 0u);
}

// The spec types general.alignment UINT32; a right value of another type is still refused,
// naming the type.
TEST(GgufHostile, AlignmentOfAnotherTypeIsRefused) {
  auto with = [](uint32_t type, auto value) {
    RawGguf g;
    g.header(0, 1).str("general.alignment").u32(type).pod(value);
    return expect_invalid(g.bytes());
  };
  EXPECT_NE(with(10, uint64_t{32}).find("alignment has type UINT64, not UINT32"),
            std::string::npos);
  EXPECT_NE(with(5, int32_t{32}).find("alignment has type INT32"), std::string::npos);
  EXPECT_NE(with(2, uint16_t{32}).find("alignment has type UINT16"), std::string::npos);
  EXPECT_NE(with(7, uint8_t{1}).find("alignment has type BOOL"), std::string::npos);
  EXPECT_NE(with(6, 32.0f).find("alignment has type FLOAT32"), std::string::npos);
  RawGguf zero;
  zero.header(0, 1).kv_u32("general.alignment", 0);
  EXPECT_NE(expect_invalid(zero.bytes()).find("alignment 0 is not a power of two"),
            std::string::npos);
}

// Keys, string values and string array elements must be UTF-8; the error names the item, shows
// the bad byte and points at it in the file.
TEST(GgufHostile, InvalidUtf8IsRefusedNamingTheItem) {
  // Overlong '/', a lone continuation byte, a UTF-16 surrogate, above U+10FFFF, truncated.
  for (std::string_view bad :
       {"\xC0\xAF", "\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\xE2\x82"}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(bad)));
    RawGguf key;
    key.header(0, 1).kv_str(std::string("general.") + std::string(bad), "x");
    const std::string key_message = expect_invalid(key.bytes());
    EXPECT_NE(key_message.find("metadata entry #0 key"), std::string::npos) << key_message;
    EXPECT_NE(key_message.find("the key is not valid UTF-8"), std::string::npos) << key_message;
    EXPECT_NE(key_message.find("\\x"), std::string::npos) << key_message;

    RawGguf value;
    value.header(0, 1).kv_str("general.name", std::string("name ") + std::string(bad));
    const std::string value_message = expect_invalid(value.bytes());
    EXPECT_NE(value_message.find("'general.name'"), std::string::npos) << value_message;
    EXPECT_NE(value_message.find("STRING value is not valid UTF-8"), std::string::npos);
  }
  // Byte offset: header 24 + key (8 + 12) + type 4 + length 8 + "name " 5.
  RawGguf value;
  value.header(0, 1).kv_str("general.name", "name \xFF");
  EXPECT_NE(expect_invalid(value.bytes()).find("at byte 61"), std::string::npos);

  // Array elements, both for small arrays (parsed at open) and vocabulary-sized ones (kept in
  // the mapping, validated at open all the same).
  for (uint64_t n : {3ull, 300ull}) {
    SCOPED_TRACE(n);
    RawGguf array;
    array.header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(n);
    for (uint64_t i = 0; i < n; ++i) array.str(i == n - 1 ? "\xC3(" : "ok");
    const std::string message = expect_invalid(array.bytes());
    EXPECT_NE(message.find("'tokenizer.ggml.tokens'"), std::string::npos) << message;
    EXPECT_NE(
        message.find("a STRING value (element #" + std::to_string(n - 1) + ") is not valid UTF-8"),
        std::string::npos)
        << message;
  }
  // Valid multi-byte text of every length passes.
  RawGguf ok;
  ok.header(0, 1).kv_str("general.name",
                         "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF");
  EXPECT_EQ(GgufFile::parse(ok.bytes()).get_string("general.name"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF");
}

// Tensor names: at most 64 bytes (the spec), valid UTF-8; the error shows the name.
TEST(GgufHostile, TensorNameLimits) {
  auto with_name = [](const std::string& name) {
    RawGguf g;
    g.header(1, 0).tensor(name, {4}, 0, 0).pad_to(32).zeros(16);
    return g;
  };
  const std::string name64(64, 'n');
  EXPECT_EQ(GgufFile::parse(with_name(name64).bytes()).tensors()[0].name, name64);
  const std::string name65 = "blk.0." + std::string(59, 'x');
  const std::string message = expect_invalid(with_name(name65).bytes());
  EXPECT_NE(message.find("tensor name '" + name65 + "' is 65 bytes long; GGUF allows at most 64"),
            std::string::npos)
      << message;
  EXPECT_NE(expect_invalid(with_name("bad\xFEname").bytes()).find("not valid UTF-8"),
            std::string::npos);
}

TEST(GgufHostile, ErrorsNameTheByteOffset) {
  RawGguf g;
  g.header(1, 0).tensor("t", {4}, 77, 0).pad_to(32).zeros(16);
  std::string message = expect_invalid(g.bytes());
  // type id sits after magic(4)+version(4)+counts(16)+name(8+1)+n_dims(4)+ne(8) = 45
  EXPECT_NE(message.find("at byte 45"), std::string::npos) << message;
  EXPECT_NE(message.find("tensor #0 't'"), std::string::npos) << message;
}

TEST(GgufHostile, MetadataValueBudget) {
  // 20M UINT8 values fit in 20 MB of file but would cost a GgufValue each.
  const uint64_t n = (uint64_t{1} << 24) + 1;
  RawGguf g;
  g.header(0, 1).str("big").u32(9).u32(0).u64(n).zeros(n);
  EXPECT_NE(expect_invalid(g.bytes()).find("metadata values"), std::string::npos);
}

TEST(GgufHostile, OpenNamesMissingFilesAndDirectories) {
  try {
    GgufFile::open("/nonexistent/dir/model.gguf");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos);
  }
  auto dir = test::make_temp_dir("gguf_dir");
  try {
    GgufFile::open(dir);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_model);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace inference::formats
