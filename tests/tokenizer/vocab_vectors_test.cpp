// Every tokenizer vector of testdata/vocab (made by llama.cpp) must match exactly: the standard
// 46 tests per vocabulary, the corpus with and without special-token parsing, and the
// decode round trips recorded in roundtrip-a.json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reference_data.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

struct VectorCase {
  std::string vocab;  // file name
  std::string inp;    // input file name
  std::string out;    // expected output file name
  bool parse_special;
};

std::vector<VectorCase> all_cases() {
  std::vector<VectorCase> cases;
  for (const auto& v : vocab_files()) {
    cases.push_back({v, v + ".inp", v + ".out", false});
    cases.push_back({v, "corpus-a.inp", v + ".corpus-a.out", false});
    cases.push_back({v, "corpus-a.inp", v + ".corpus-a.special.out", true});
  }
  return cases;
}

class VocabVectors : public ::testing::TestWithParam<VectorCase> {};

TEST_P(VocabVectors, EncodeMatchesLlamaCpp) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto& c = GetParam();
  const auto& tok = cached_tokenizer("vocab/" + c.vocab);
  const auto inputs = read_inp((testdata_dir() / "vocab" / c.inp).string());
  const auto expected = read_out((testdata_dir() / "vocab" / c.out).string());
  ASSERT_EQ(inputs.size(), expected.size()) << c.out;
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = tok.encode(inputs[i], /*add_special=*/false, c.parse_special);
    EXPECT_EQ(got, expected[i]) << c.out << " test " << i << " input: "
                                << nlohmann::json(inputs[i]).dump(
                                       -1, ' ', false, nlohmann::json::error_handler_t::replace)
                                << "\n expected:" << ids_to_string(expected[i])
                                << "\n got:     " << ids_to_string(got);
    if (got != expected[i] && ++failures > 5) break;
  }
}

std::string case_name(const ::testing::TestParamInfo<VectorCase>& info) {
  std::string name = info.param.out;
  for (auto& ch : name) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Vocab, VocabVectors, ::testing::ValuesIn(all_cases()), case_name);

// decode(encode(s)) against roundtrip-a.json: equal to s unless listed, then equal to the
// listed decoded text.
class VocabRoundTrip : public ::testing::TestWithParam<std::pair<std::string, bool>> {};

TEST_P(VocabRoundTrip, DecodeMatchesLlamaCpp) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto& [vocab, special] = GetParam();
  const auto roundtrip =
      nlohmann::json::parse(read_file(testdata_dir() / "vocab" / "roundtrip-a.json"));
  const auto inputs = read_inp((testdata_dir() / "vocab" / "corpus-a.inp").string());
  // roundtrip-a.json names vocabularies by their short name; find ours by its file.
  const std::string mode = special ? "special" : "plain";
  const nlohmann::json* entry = nullptr;
  for (const auto& [name, modes] : roundtrip["results"].items()) {
    const std::string file = modes[mode]["file"];
    if (file.rfind(vocab, 0) == 0) entry = &modes[mode];
  }
  ASSERT_NE(entry, nullptr) << vocab << " not in roundtrip-a.json";
  std::map<size_t, std::string> failures;
  for (const auto& f : (*entry)["roundtrip_failures"])
    failures[f["index"].get<size_t>()] = f["decoded"];
  const auto& tok = cached_tokenizer("vocab/" + vocab);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto ids = tok.encode(inputs[i], false, special);
    const std::string expected = failures.count(i) ? failures[i] : inputs[i];
    EXPECT_EQ(tok.decode(ids), expected) << vocab << " " << mode << " test " << i;
  }
}

std::vector<std::pair<std::string, bool>> roundtrip_cases() {
  std::vector<std::pair<std::string, bool>> cases;
  for (const auto& v : vocab_files()) {
    cases.emplace_back(v, false);
    cases.emplace_back(v, true);
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Vocab, VocabRoundTrip, ::testing::ValuesIn(roundtrip_cases()),
                         [](const auto& info) {
                           std::string name =
                               info.param.first + (info.param.second ? "_special" : "_plain");
                           for (auto& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace inference::test
