// infer bench: JSON lines with the fields tools read, and usage errors for bad arguments.
// Values are not asserted (speed is not a test); their presence and types are.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "run_infer.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));  // throws if not JSON
  }
  return lines;
}

class Bench : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("bench");
    model_ = (dir_ / "tiny.gguf").string();
    auto run = run_infer({"gen-model", "--shape", "tiny-llama", "--type", "F16", "--out", model_});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string model_;
};

TEST_F(Bench, JsonLinesHaveTheRequiredFields) {
  auto run = run_infer({"bench", model_, "-p", "16", "-n", "4", "-r", "2", "-t", "1", "--json",
                        "--bandwidth-gbs", "10"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), 2u) << run.out;
  EXPECT_EQ(lines[0]["test"], "pp16");
  EXPECT_EQ(lines[1]["test"], "tg4");
  for (const auto& line : lines) {
    for (const char* number :
         {"tokens_per_second", "tokens_per_second_stddev", "ms_per_token", "gb_per_second",
          "bandwidth_fraction", "peak_rss_bytes", "kv_cache_bytes", "file_bytes"}) {
      ASSERT_TRUE(line.contains(number)) << number << " missing in " << line.dump();
      EXPECT_TRUE(line[number].is_number()) << number;
    }
    EXPECT_EQ(line["model"], "tiny.gguf");
    EXPECT_EQ(line["threads"], 1);
    EXPECT_TRUE(line["type"].is_string());
    EXPECT_EQ(line["bandwidth_gb_per_second"], 10.0);
  }
}

// The default drives the model through the public contract; --engine times Engine::decode.
// Both measure the same tests with the same traffic figure.
TEST_F(Bench, ContractPathByDefaultEnginePathOnRequest) {
  for (const bool engine : {false, true}) {
    std::vector<std::string> args = {"bench", model_, "-p", "8", "-n",     "3",
                                     "-r",    "1",    "-t", "1", "--json", "--bandwidth-gbs",
                                     "10"};
    if (engine) args.push_back("--engine");
    auto run = run_infer(args);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto lines = json_lines(run.out);
    ASSERT_EQ(lines.size(), 2u) << run.out;
    for (const auto& line : lines) {
      EXPECT_EQ(line["path"], engine ? "engine" : "contract");
      EXPECT_GT(line["tokens_per_second"].get<double>(), 0.0);
    }
    EXPECT_EQ(lines[0]["weight_bytes_per_pass"], lines[1]["weight_bytes_per_pass"]);
  }
  // Generation alone (no pp test) still has room for its tokens.
  auto run = run_infer({"bench", model_, "-p", "0", "-n", "5", "-r", "1", "-t", "1", "--json",
                        "--bandwidth-gbs", "10"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(json_lines(run.out).at(0)["test"], "tg5");
}

TEST_F(Bench, ProfilePrintsTheMatmulFloorPerTensorKind) {
  auto run = run_infer({"bench", model_, "-p", "8", "-n", "2", "-r", "1", "-t", "1", "--json",
                        "--bandwidth-gbs", "10", "--profile"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), 6u) << run.out;
  EXPECT_EQ(lines[2]["test"], "matmul_floor_tg");
  // The per-operation profile of one decoded token at depth 0: every op class timed alone.
  EXPECT_EQ(lines[3]["test"], "decode_profile");
  EXPECT_FALSE(lines[3]["ops"].empty()) << lines[3].dump();
  EXPECT_EQ(lines[4]["test"], "matmul_floor_pp8");
  // Then attention alone at each depth (-d; 0 by default), with its KV read.
  EXPECT_EQ(lines[5]["test"], "attention_profile");
  EXPECT_EQ(lines[5]["n_depth"], 0);
  EXPECT_GT(lines[5]["kv_bytes_per_token"].get<double>(), 0.0);
  for (const char* kind :
       {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "output"}) {
    EXPECT_TRUE(lines[2]["by_kind"].contains(kind)) << kind << " in " << lines[2].dump();
  }
}

// -d: both tests again after N tokens of context; the tg bytes per token count the KV read at
// that depth (tiny-llama: 2 layers x 2 KV heads x 64 x K,V; Q8_0 = 34 bytes per 32 elements).
TEST_F(Bench, DepthsRepeatTheTestsAfterCachedContext) {
  for (const bool engine : {false, true}) {
    std::vector<std::string> args = {
        "bench", model_,      "-p",  "8",  "-n", "3",      "-d",
        "0,20",  "-r",        "1",   "-t", "1",  "--json", "--bandwidth-gbs",
        "10",    "--kv-type", "q8_0"};
    if (engine) args.push_back("--engine");
    auto run = run_infer(args);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto lines = json_lines(run.out);
    ASSERT_EQ(lines.size(), 4u) << run.out;
    EXPECT_EQ(lines[0]["test"], "pp8");
    EXPECT_EQ(lines[1]["test"], "tg3");
    EXPECT_EQ(lines[2]["test"], "pp8 @ d20");
    EXPECT_EQ(lines[3]["test"], "tg3 @ d20");
    EXPECT_EQ(lines[3]["n_depth"], 20);
    EXPECT_EQ(lines[3]["kv_type"], "q8_0");
    const uint64_t per_position = 2 * 2 * 64 * 2 * 34 / 32;
    EXPECT_EQ(
        lines[3]["bytes_per_token"].get<uint64_t>() - lines[1]["bytes_per_token"].get<uint64_t>(),
        20 * per_position);
    EXPECT_EQ(lines[1]["bytes_per_token"].get<uint64_t>() -
                  lines[1]["weight_bytes_per_pass"].get<uint64_t>(),
              2 * per_position);  // positions 0, 1, 2: on average 2 cells
    for (const auto& line : lines) EXPECT_GT(line["tokens_per_second"].get<double>(), 0.0);
  }
}

TEST(BenchBandwidth, PrintsOneJsonLine) {
  auto run = run_infer({"bench", "--bandwidth", "--json", "--bandwidth-mib", "64", "-t", "1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["test"], "bandwidth");
  EXPECT_GT(lines[0]["gb_per_second"].get<double>(), 0.0);
}

TEST_F(Bench, BadArgumentsAreUsageErrors) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"bench"},
                                             {"bench", model_, "-p", "-1"},
                                             {"bench", model_, "-r", "0"},
                                             {"bench", model_, "-t", "-2"},
                                             {"bench", model_, "-p", "0", "-n", "0"},
                                             {"bench", model_, "-d", "-5"},
                                             {"bench", model_, "--kv-type", "q4_1"},
                                             {"bench", model_, "-p", "many"}}) {
    auto run = run_infer(args);
    EXPECT_EQ(run.exit_code, 2) << args.back() << ": " << run.err;
    EXPECT_NE(run.err.find("infer: "), std::string::npos) << run.err;
  }
  auto missing = run_infer({"bench", (dir_ / "missing.gguf").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("missing.gguf"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace inference::test
