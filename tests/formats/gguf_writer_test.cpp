// GgufWriter: what it writes reads back identically, with the alignment asked for; rewriting a
// file made by llama.cpp's gguf-py reproduces it byte for byte.
#include <gtest/gtest.h>

#include "formats/gguf.hpp"
#include "support/testdata.hpp"

namespace inference::formats {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> pattern(size_t n, uint8_t seed) {
  std::vector<std::byte> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return out;
}

class GgufWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("gguf_writer"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(GgufWriterTest, EveryValueTypeRoundTrips) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("general.alignment", 64);
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -7);
  w.set_u64("u64", UINT64_MAX);
  w.set_f32("f32", 1.5f);
  w.set_bool("flag", true);
  w.set("u8", {GgufType::UINT8, uint8_t{200}});
  w.set("i8", {GgufType::INT8, int8_t{-100}});
  w.set("u16", {GgufType::UINT16, uint16_t{65535}});
  w.set("i16", {GgufType::INT16, int16_t{-32768}});
  w.set("i64", {GgufType::INT64, int64_t{-1} << 40});
  w.set("f64", {GgufType::FLOAT64, 0.1});
  w.set_string_array("strings", {"a", "", "ünï"});
  w.set_f32_array("floats", {0.5f, -2.0f});
  w.set_i32_array("ints", {1, -2, 3});
  GgufArray inner{GgufType::UINT8, {{GgufType::UINT8, uint8_t{9}}}};
  w.set("nested", {GgufType::ARRAY, GgufArray{GgufType::ARRAY, {{GgufType::ARRAY, inner}}}});
  w.set_i32("i32", 8);  // replaces, keeps its place
  auto f32 = pattern(4 * 3 * 2, 1);
  auto q4k = pattern(144 * 2, 2);
  auto q80 = pattern(34 * 4, 3);
  w.add_tensor("f32", GgmlType::F32, {3, 2}, f32);
  w.add_tensor("q4k", GgmlType::Q4_K, {256, 2}, q4k, /*copy=*/false);
  w.add_tensor("q80", GgmlType::Q8_0, {64, 1, 2}, q80);
  fs::path path = dir_ / "all.gguf";
  w.write(path);
  EXPECT_FALSE(fs::exists(dir_ / "all.gguf.tmp"));

  GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 64u);
  EXPECT_EQ(file.data_offset() % 64, 0u);
  ASSERT_EQ(file.metadata().size(), 17u);
  EXPECT_EQ(file.metadata()[3].first, "i32");
  EXPECT_EQ(file.get_int("i32"), 8);
  EXPECT_EQ(file.get_int("u32"), 4000000000);
  EXPECT_EQ(std::get<uint64_t>(file.find("u64")->value), UINT64_MAX);
  EXPECT_FALSE(file.get_int("u64").has_value());  // does not fit in int64
  EXPECT_EQ(file.get_float("f32"), 1.5);
  EXPECT_EQ(file.get_bool("flag"), true);
  EXPECT_EQ(file.get_int("u8"), 200);
  EXPECT_EQ(file.get_int("i8"), -100);
  EXPECT_EQ(file.get_int("u16"), 65535);
  EXPECT_EQ(file.get_int("i16"), -32768);
  EXPECT_EQ(file.get_int("i64"), int64_t{-1} << 40);
  EXPECT_EQ(file.get_float("f64"), 0.1);
  EXPECT_EQ(file.get_string_array("strings"), (std::vector<std::string_view>{"a", "", "ünï"}));
  EXPECT_EQ(file.get_float_array("floats"), (std::vector<float>{0.5f, -2.0f}));
  EXPECT_EQ(file.get_int_array("ints"), (std::vector<int64_t>{1, -2, 3}));
  const GgufArray* nested = file.find("nested")->as_array();
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->items.at(0).as_array()->items.at(0).as_int(), 9);

  ASSERT_EQ(file.tensors().size(), 3u);
  const std::vector<std::byte>* sources[] = {&f32, &q4k, &q80};
  for (size_t i = 0; i < 3; ++i) {
    const GgufTensor& t = file.tensors()[i];
    EXPECT_EQ(t.offset % 64, 0u) << t.name;
    ASSERT_EQ(t.data.size(), sources[i]->size()) << t.name;
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), sources[i]->begin())) << t.name;
  }
  EXPECT_EQ(file.find_tensor("q80")->ne, (std::vector<int64_t>{64, 1, 2}));
}

TEST_F(GgufWriterTest, RewritingAReferenceFileIsByteIdentical) {
  INFERENCE_REQUIRE_TESTDATA();
  for (const char* name :
       {"models/llama/llama-Q4_K_M.gguf", "models/gemma3/gemma3-Q4_K_M.gguf", "quant/Q6_K.gguf"}) {
    SCOPED_TRACE(name);
    fs::path source = test::testdata_dir() / name;
    GgufFile original = GgufFile::open(source);
    GgufWriter w;
    for (const auto& [key, value] : original.metadata()) w.set(key, value);
    for (const auto& t : original.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data, false);
    fs::path copy = dir_ / "copy.gguf";
    w.write(copy);
    EXPECT_EQ(test::read_file(copy), test::read_file(source));
  }
}

TEST_F(GgufWriterTest, RejectsInconsistentInput) {
  GgufWriter w;
  auto data = pattern(16, 0);
  EXPECT_THROW(w.add_tensor("t", GgmlType::F32, {5}, data), Error);     // 20 bytes needed
  EXPECT_THROW(w.add_tensor("t", GgmlType::Q4_K, {4}, data), Error);    // not a block
  EXPECT_THROW(w.add_tensor("t", GgmlType::F32, {}, data), Error);      // no dims
  EXPECT_THROW(w.add_tensor("t", GgmlType::F32, {4, 0}, data), Error);  // zero dim
  w.add_tensor("t", GgmlType::F32, {4}, data);
  EXPECT_THROW(w.add_tensor("t", GgmlType::F32, {4}, data), Error);  // duplicate
  EXPECT_THROW(w.set("", {GgufType::UINT8, uint8_t{1}}), Error);
  w.set("mismatch", {GgufType::UINT32, std::string("x")});
  EXPECT_THROW(w.write(dir_ / "bad.gguf"), Error);
  EXPECT_FALSE(fs::exists(dir_ / "bad.gguf"));

  GgufWriter align;
  align.set_u32("general.alignment", 24);
  EXPECT_THROW(align.write(dir_ / "bad.gguf"), Error);
  GgufWriter nowhere;
  EXPECT_THROW(nowhere.write(dir_ / "missing-dir" / "x.gguf"), Error);
}

}  // namespace
}  // namespace inference::formats
