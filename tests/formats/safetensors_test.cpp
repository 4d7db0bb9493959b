// Safetensors: writer/reader round trips (single file and shards) and hostile headers.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "formats/safetensors.hpp"
#include "support/testdata.hpp"

namespace inference::formats {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> pattern(size_t n, uint8_t seed) {
  std::vector<std::byte> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
  return out;
}

// A file image from a raw header text and `data_size` bytes of data.
std::vector<std::byte> image(std::string_view header, size_t data_size) {
  std::vector<std::byte> out(8 + header.size() + data_size);
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

std::string expect_invalid(std::span<const std::byte> bytes) {
  try {
    SafetensorsFile::parse(bytes, "bad.safetensors");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_model) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.safetensors"), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "parse succeeded";
  return "";
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("safetensors"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SafetensorsTest, EveryDtypeRoundTrips) {
  const SafetensorsDtype dtypes[] = {
      SafetensorsDtype::BOOL,    SafetensorsDtype::U8,      SafetensorsDtype::I8,
      SafetensorsDtype::F8_E5M2, SafetensorsDtype::F8_E4M3, SafetensorsDtype::I16,
      SafetensorsDtype::U16,     SafetensorsDtype::F16,     SafetensorsDtype::BF16,
      SafetensorsDtype::I32,     SafetensorsDtype::U32,     SafetensorsDtype::F32,
      SafetensorsDtype::F64,     SafetensorsDtype::I64,     SafetensorsDtype::U64};
  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  std::vector<std::vector<std::byte>> data;
  for (size_t i = 0; i < std::size(dtypes); ++i) {
    data.push_back(pattern(3 * 5 * dtype_size(dtypes[i]), static_cast<uint8_t>(i)));
    w.add_tensor("t" + std::to_string(i) + "." + std::string(to_string(dtypes[i])), dtypes[i],
                 {3, 5}, data.back());
  }
  w.add_tensor("scalar", SafetensorsDtype::F32, {}, pattern(4, 9));
  w.add_tensor("empty", SafetensorsDtype::F32, {0, 4}, {});
  w.write(dir_ / "all.safetensors");

  SafetensorsFile file = SafetensorsFile::open(dir_ / "all.safetensors");
  EXPECT_EQ((8 + file.header_size()) % 8, 0u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  ASSERT_EQ(file.tensors().size(), std::size(dtypes) + 2);
  for (size_t i = 0; i < std::size(dtypes); ++i) {
    std::string name = "t" + std::to_string(i) + "." + std::string(to_string(dtypes[i]));
    const SafetensorsTensor* t = file.find(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->dtype, dtypes[i]);
    EXPECT_EQ(safetensors_dtype_from_name(to_string(dtypes[i])), dtypes[i]);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 5}));
    EXPECT_EQ(t->n_elements, 15u);
    ASSERT_EQ(t->data.size(), data[i].size());
    EXPECT_TRUE(std::equal(t->data.begin(), t->data.end(), data[i].begin())) << name;
  }
  EXPECT_EQ(file.find("scalar")->n_elements, 1u);
  EXPECT_EQ(file.find("empty")->data.size(), 0u);
  EXPECT_EQ(file.find("nope"), nullptr);
  // Tensors come sorted by name.
  EXPECT_TRUE(std::is_sorted(file.tensors().begin(), file.tensors().end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
}

TEST_F(SafetensorsTest, ShardedModelRoundTrips) {
  SafetensorsWriter w;
  std::vector<std::vector<std::byte>> data;
  for (int i = 0; i < 5; ++i) {
    data.push_back(pattern(4 * 64, static_cast<uint8_t>(i)));
    w.add_tensor("layer." + std::to_string(i), SafetensorsDtype::F32, {8, 8}, data.back(), false);
  }
  auto paths = w.write_sharded(dir_, 600);  // two 256-byte tensors per shard
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0].filename(), "model-00001-of-00003.safetensors");
  EXPECT_TRUE(fs::exists(dir_ / "model.safetensors.index.json"));

  SafetensorsModel model = SafetensorsModel::open(dir_);
  EXPECT_EQ(model.shards().size(), 3u);
  ASSERT_EQ(model.tensors().size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const SafetensorsTensor& t = model.get("layer." + std::to_string(i));
    EXPECT_EQ(t.shard, static_cast<size_t>(i / 2));
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), data[i].begin()));
  }
  uint64_t total = 0;
  for (const auto& p : paths) total += fs::file_size(p);
  EXPECT_EQ(model.size_bytes(), total);
  try {
    model.get("missing");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
}

TEST_F(SafetensorsTest, SingleFileModelAndDirectoryWithoutIndex) {
  SafetensorsWriter w;
  w.add_tensor("w", SafetensorsDtype::BF16, {2}, pattern(4, 1));
  w.write(dir_ / "model.safetensors");
  EXPECT_EQ(SafetensorsModel::open(dir_).tensors().size(), 1u);
  EXPECT_EQ(SafetensorsModel::open(dir_ / "model.safetensors").tensors().size(), 1u);
  fs::rename(dir_ / "model.safetensors", dir_ / "weights.safetensors");
  EXPECT_EQ(SafetensorsModel::open(dir_).shards().size(), 1u);
  fs::remove(dir_ / "weights.safetensors");
  EXPECT_THROW(SafetensorsModel::open(dir_), Error);
}

TEST_F(SafetensorsTest, HostileIndexes) {
  SafetensorsWriter w;
  w.add_tensor("a", SafetensorsDtype::U8, {1}, pattern(1, 1));
  w.write(dir_ / "model-00001-of-00001.safetensors");
  w.write(dir_ / "copy.safetensors");
  auto with_index = [&](const std::string& text) {
    std::ofstream(dir_ / "model.safetensors.index.json") << text;
    try {
      SafetensorsModel::open(dir_);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(with_index(R"({"weight_map":{"a":"../etc/passwd"}})").find("not a file in"),
            std::string::npos);
  EXPECT_NE(
      with_index(R"({"weight_map":{"b":"model-00001-of-00001.safetensors"}})").find("lacks it"),
      std::string::npos);
  EXPECT_NE(with_index(R"({"weight_map":{"a":"model-00001-of-00001.safetensors",
                                         "b":"copy.safetensors"}})")
                .find("more than one shard"),
            std::string::npos);
  EXPECT_NE(with_index(R"({"weight_map":{"a":"absent.safetensors"}})").find("absent"),
            std::string::npos);
  EXPECT_NE(with_index(R"({"weight_map":[]})").find("weight_map"), std::string::npos);
  EXPECT_NE(with_index("{").find("invalid JSON"), std::string::npos);
  EXPECT_EQ(with_index(R"({"weight_map":{"a":"model-00001-of-00001.safetensors"}})"), "accepted");
}

TEST(SafetensorsHostile, TruncatedEverywhere) {
  SafetensorsWriter w;
  w.add_tensor("a", SafetensorsDtype::F32, {2, 2}, pattern(16, 1));
  w.add_tensor("b", SafetensorsDtype::I64, {3}, pattern(24, 2));
  auto dir = test::make_temp_dir("st_trunc");
  w.write(dir / "x.safetensors");
  std::string whole = test::read_file(dir / "x.safetensors");
  fs::remove_all(dir);
  auto bytes = std::as_bytes(std::span(whole.data(), whole.size()));
  EXPECT_EQ(SafetensorsFile::parse(bytes).tensors().size(), 2u);
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    expect_invalid(bytes.first(n));
  }
}

TEST(SafetensorsHostile, BadHeaders) {
  auto msg = [](std::string_view header, size_t data) {
    auto bytes = image(header, data);
    return expect_invalid(bytes);
  };
  // Header length larger than the file.
  std::vector<std::byte> huge(16);
  uint64_t n = uint64_t{1} << 62;
  std::memcpy(huge.data(), &n, 8);
  EXPECT_NE(expect_invalid(huge).find("exceeds the file size"), std::string::npos);

  EXPECT_NE(msg("not json", 0).find("not valid JSON"), std::string::npos);
  EXPECT_NE(msg("[]", 0).find("not a JSON object"), std::string::npos);
  EXPECT_NE(msg(std::string(200, '['), 0).find("nested"), std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                   "a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                8)
                .find("'a' twice"),
            std::string::npos);
  EXPECT_NE(
      msg(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", 4).find("unknown dtype 'Q4'"),
      std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", 4).find("outside"),
            std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4).find("need 8"),
            std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4)
                .find("overflows"),
            std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,4]}})", 4)
                .find("more than 2^64"),
            std::string::npos);
  EXPECT_NE(
      msg(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4).find("non-negative"),
      std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4).find("outside"),
            std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                   "b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                4)
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8).find("hole"),
            std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 12).find("cover"),
            std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1]}})", 4).find("lacks"), std::string::npos);
  EXPECT_NE(msg(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4).find("data_offsets"),
            std::string::npos);
  EXPECT_NE(msg(R"({"__metadata__":{"k":1}})", 0).find("__metadata__"), std::string::npos);
  EXPECT_NE(msg(R"({"a":[]})", 0).find("not an object"), std::string::npos);
  // A valid minimal header parses.
  auto ok = image(R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})", 3);
  EXPECT_EQ(SafetensorsFile::parse(ok).find("a")->data.size(), 3u);
  auto empty = image("{}", 0);
  EXPECT_TRUE(SafetensorsFile::parse(empty).tensors().empty());
}

// The format allows only spaces (0x20) after the JSON; a JSON parser would skip tabs and
// newlines too, and NUL padding is a writer bug. The error names the byte and its offset.
TEST(SafetensorsHostile, HeaderPaddedWithAnythingButSpacesIsRefused) {
  const std::string json = R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})";
  auto padded_ok = image(json + "     ", 3);
  EXPECT_EQ(SafetensorsFile::parse(padded_ok).find("a")->data.size(), 3u);
  const struct {
    std::string padding;
    const char* byte;
  } cases[] = {{std::string("  \0", 3), "0x00"},
               {"\n", "0x0A"},
               {" \t ", "0x09"},
               {"\r", "0x0D"},
               {"  x", "0x78"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.byte);
    const std::string message = expect_invalid(image(json + c.padding, 3));
    EXPECT_NE(message.find("header padding"), std::string::npos) << message;
    EXPECT_NE(message.find(c.byte), std::string::npos) << message;
    // The offset of the first bad byte in the file: 8 (length) + the JSON + leading spaces.
    const size_t at = 8 + json.size() + c.padding.find_first_not_of(' ');
    EXPECT_NE(message.find("at byte " + std::to_string(at)), std::string::npos) << message;
  }
}

TEST(SafetensorsHostile, WriterRejectsInconsistentTensors) {
  SafetensorsWriter w;
  auto data = pattern(8, 0);
  EXPECT_THROW(w.add_tensor("a", SafetensorsDtype::F32, {3}, data), Error);
  EXPECT_THROW(w.add_tensor("__metadata__", SafetensorsDtype::U8, {8}, data), Error);
  EXPECT_THROW(w.add_tensor("a", SafetensorsDtype::F32, {-2}, data), Error);
  w.add_tensor("a", SafetensorsDtype::F32, {2}, data);
  EXPECT_THROW(w.add_tensor("a", SafetensorsDtype::F32, {2}, data), Error);
}

}  // namespace
}  // namespace inference::formats
