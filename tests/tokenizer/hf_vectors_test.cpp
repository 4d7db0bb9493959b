// Every reference output of testdata/hf (made with Hugging Face tokenizers) must match exactly:
// encode without and with special tokens added, decode with and without transformers'
// clean-up of spaces.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "reference_data.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

struct HfCase {
  std::string dir;
  std::string output;  // encode, encode_special, decode, decode_raw
};

class HfVectors : public ::testing::TestWithParam<HfCase> {};

std::vector<std::string> read_json_lines(const std::filesystem::path& path) {
  std::istringstream in(read_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(nlohmann::json::parse(line).get<std::string>());
  return lines;
}

TEST_P(HfVectors, MatchesHuggingFace) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto& c = GetParam();
  const auto dir = testdata_dir() / "hf" / c.dir;
  const auto& tok = cached_tokenizer("hf/" + c.dir);
  const auto inputs = read_inp((dir / "encode.inp").string());
  if (c.output == "encode" || c.output == "encode_special") {
    const auto expected = read_out((dir / (c.output + ".out")).string());
    ASSERT_EQ(inputs.size(), expected.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto got = tok.encode(inputs[i], c.output == "encode_special", /*parse_special=*/true);
      EXPECT_EQ(got, expected[i]) << c.dir << " " << c.output << " test " << i
                                  << "\n expected:" << ids_to_string(expected[i])
                                  << "\n got:     " << ids_to_string(got);
    }
  } else {
    const auto ids = read_out((dir / "encode.out").string());
    const auto expected = read_json_lines(dir / (c.output + ".out"));
    ASSERT_EQ(ids.size(), expected.size());
    tokenizer::DecodeOptions options;
    if (c.output == "decode_raw") options.clean_up_spaces = false;
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(tok.decode_with(ids[i], options), expected[i])
          << c.dir << " " << c.output << " test " << i;
    }
  }
}

std::vector<HfCase> hf_cases() {
  std::vector<HfCase> cases;
  for (const char* dir : {"gemma3", "llama3.1", "qwen3"}) {
    for (const char* out : {"encode", "encode_special", "decode", "decode_raw"})
      cases.push_back({dir, out});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Hf, HfVectors, ::testing::ValuesIn(hf_cases()), [](const auto& info) {
  std::string name = info.param.dir + "_" + info.param.output;
  for (auto& ch : name) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
});

}  // namespace
}  // namespace inference::test
