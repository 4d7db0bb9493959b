// Crash / resume of the real `infer score --run DIR`: the process is killed with SIGKILL at
// random points 20 times and restarted; the finished output must equal an uninterrupted run's
// byte for byte (scored_at aside), with every item once: none lost, none repeated.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "support/testdata.hpp"

namespace inference::test {
namespace {

// Starts infer with `args`, stdout/stderr to files in `dir`; returns the pid.
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string out = (dir / "stdout").string(), err = (dir / "stderr").string();
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(127);
    std::vector<char*> argv;
    static std::string exe = INFER_EXE;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

nlohmann::json without_time(nlohmann::json summary) {
  summary["metadata"].erase("scored_at");
  return summary;
}

class ScoreResume : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testdata_dir() / "models/e2e/e2e-spm-mistral-Q4_K_M.gguf"))
      GTEST_SKIP() << "shared test data not found";
    dir_ = make_temp_dir("ml_resume");
    std::ofstream in(dir_ / "responses.jsonl");
    for (int i = 0; i < 30; ++i)
      in << nlohmann::json{{"id", "q" + std::to_string(i)},
                           {"prompt", "Question " + std::to_string(i)},
                           {"response", "I think the answer is " + std::to_string(i * 7) +
                                            ". It makes me feel calm."},
                           {"model", i % 2 ? "a" : "b"}}
                .dump()
         << "\n";
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::vector<std::string> args(const std::string& run, const std::string& tag) const {
    return {"score", (dir_ / "responses.jsonl").string(), "--suites", "heuristic,semantic",
            "--judge", (testdata_dir() / "models/e2e/e2e-spm-mistral-Q4_K_M.gguf").string(),
            "--judge-max-tokens", "4",
            // Free text: a 2-token reply is never valid JSON, so each item's judge outcome is
            // the same whichever batch it was decoded in, and the comparison is exact.
            "--no-constraint", "--concurrency", "2", "-t", "1", "-q", "--run",
            (dir_ / run).string(), "--out", (dir_ / (tag + ".json")).string(), "--items",
            (dir_ / (tag + ".jsonl")).string()};
  }
  std::filesystem::path dir_;
};

TEST_F(ScoreResume, KilledTwentyTimesLosesAndRepeatsNothing) {
  ASSERT_EQ(wait_exit(spawn(args("ref_run", "ref"), dir_)), 0) << read_file(dir_ / "stderr");
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> delay_ms(10, 60);
  int kills = 0;
  for (int round = 0; round < 20; ++round) {
    const pid_t pid = spawn(args("run", "out"), dir_);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(pid, SIGKILL);
    const int rc = wait_exit(pid);
    if (rc == -SIGKILL) {
      ++kills;
    } else {
      ASSERT_EQ(rc, 0) << read_file(dir_ / "stderr");
    }
  }
  EXPECT_GE(kills, 10) << "the run finished before most kills landed";
  ASSERT_EQ(wait_exit(spawn(args("run", "out"), dir_)), 0) << read_file(dir_ / "stderr");
  const std::string ref_items = read_file(dir_ / "ref.jsonl");
  const std::string items = read_file(dir_ / "out.jsonl");
  EXPECT_EQ(items, ref_items);
  std::set<std::string> ids;
  size_t lines = 0;
  std::istringstream in(items);
  for (std::string line; std::getline(in, line); ++lines)
    ids.insert(nlohmann::json::parse(line)["id"].get<std::string>());
  EXPECT_EQ(lines, 30u);
  EXPECT_EQ(ids.size(), 30u);
  EXPECT_EQ(without_time(nlohmann::json::parse(read_file(dir_ / "out.json"))),
            without_time(nlohmann::json::parse(read_file(dir_ / "ref.json"))));
}

TEST_F(ScoreResume, ChangedInputIsRefusedUnlessRestart) {
  auto a = args("run2", "o2");
  a[3] = "heuristic";
  ASSERT_EQ(wait_exit(spawn(a, dir_)), 0) << read_file(dir_ / "stderr");
  {
    std::ofstream more(dir_ / "responses.jsonl", std::ios::app);
    more << R"({"id":"new","response":"another response here","model":"a"})"
         << "\n";
  }
  EXPECT_EQ(wait_exit(spawn(a, dir_)), 1);
  EXPECT_NE(read_file(dir_ / "stderr").find("--restart"), std::string::npos);
  a.push_back("--restart");
  ASSERT_EQ(wait_exit(spawn(a, dir_)), 0) << read_file(dir_ / "stderr");
  EXPECT_NE(read_file(dir_ / "o2.jsonl").find("\"new\""), std::string::npos);
}

}  // namespace
}  // namespace inference::test

namespace inference::test {
namespace {

// `infer classify --run DIR` killed at random points and resumed: the output has every record
// once, in input order, equal to an uninterrupted run's; Ctrl-C exits 130 and keeps the work.
class ClassifyResume : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testdata_dir() / "models/e2e/e2e-spm-mistral-Q4_K_M.gguf";
    if (!std::filesystem::exists(model_)) GTEST_SKIP() << "shared test data not found";
    dir_ = make_temp_dir("ml_classify_resume");
    std::ofstream in(dir_ / "corpus.jsonl");
    for (int i = 0; i < 200; ++i) {
      if (i == 10) in << "{\"id\": \"no text\"}\n";
      in << "{\"id\": " << i << ", \"prompt\": \"Record " << i
         << " is about code, poems and ethics.\",  \"keep\": [1.50, \"x\"]}\n";
    }
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::vector<std::string> args(const std::string& run, const std::string& out) const {
    return {"classify",     model_.string(),
            "--in",         (dir_ / "corpus.jsonl").string(),
            "--out",        (dir_ / out).string(),
            "-t",           "1",
            "--batch-size", "4",
            "--run",        (dir_ / run).string()};
  }
  std::filesystem::path model_, dir_;
};

TEST_F(ClassifyResume, KilledAndResumedGivesTheSameOutput) {
  ASSERT_EQ(wait_exit(spawn(args("ref_run", "ref.jsonl"), dir_)), 0) << read_file(dir_ / "stderr");
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> delay_ms(10, 80);
  bool completed = false;
  for (int round = 0; round < 6; ++round) {
    const pid_t pid = spawn(args("run", "out.jsonl"), dir_);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(pid, SIGKILL);
    const int rc = wait_exit(pid);
    ASSERT_TRUE(rc == -SIGKILL || rc == 0) << read_file(dir_ / "stderr");
    // A killed run never leaves a partial output in place of the real one: the output appears
    // (renamed into place) only once complete, so one killed while shutting down has it whole.
    if (rc == 0) completed = true;
    if (!completed && std::filesystem::exists(dir_ / "out.jsonl")) {
      EXPECT_EQ(read_file(dir_ / "out.jsonl"), read_file(dir_ / "ref.jsonl"));
      completed = true;
    }
  }
  ASSERT_EQ(wait_exit(spawn(args("run", "out.jsonl"), dir_)), 0) << read_file(dir_ / "stderr");
  const std::string out = read_file(dir_ / "out.jsonl");
  EXPECT_EQ(out, read_file(dir_ / "ref.jsonl"));
  size_t lines = 0, labelled = 0;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line); ++lines)
    labelled += line.find("\"domain_1b\":") != std::string::npos;
  EXPECT_EQ(lines, 201u);
  EXPECT_EQ(labelled, 200u);
  EXPECT_NE(out.find(",  \"keep\": [1.50, \"x\"],\"domain_1b\":"), std::string::npos);
}

TEST_F(ClassifyResume, InterruptExits130AndKeepsWork) {
  const pid_t pid = spawn(args("int_run", "int.jsonl"), dir_);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  kill(pid, SIGINT);
  const int rc = wait_exit(pid);
  if (rc == 0) GTEST_SKIP() << "the run finished before the interrupt";
  if (rc == -SIGINT) GTEST_SKIP() << "the interrupt came before the run installed its handler";
  EXPECT_EQ(rc, 130) << read_file(dir_ / "stderr");
  EXPECT_NE(read_file(dir_ / "stderr").find("rerun to continue"), std::string::npos);
  ASSERT_EQ(wait_exit(spawn(args("int_run", "int.jsonl"), dir_)), 0);
  EXPECT_NE(read_file(dir_ / "stderr").find(" resumed"), std::string::npos);
}

TEST(ProbeCli, JsonReportAndResume) {
  const auto model = testdata_dir() / "models/e2e/e2e-spm-mistral-Q4_K_M.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "shared test data not found";
  const auto dir = make_temp_dir("ml_probe_cli");
  const std::vector<std::string> a = {
      "probe", model.string(),        "-t", "1", "-n", "4", "--categories", "code,word", "--json",
      "--run", (dir / "run").string()};
  ASSERT_EQ(wait_exit(spawn(a, dir)), 0) << read_file(dir / "stderr");
  const auto first = nlohmann::json::parse(read_file(dir / "stdout"));
  EXPECT_EQ(first["total"], 5);
  EXPECT_EQ(first["by_category"].size(), 2u);
  for (const auto& p : first["probes"]) {
    EXPECT_TRUE(p.contains("reply"));
    EXPECT_TRUE(p["correct"].is_boolean());
  }
  ASSERT_EQ(wait_exit(spawn(a, dir)), 0);  // everything resumed from the run
  EXPECT_EQ(nlohmann::json::parse(read_file(dir / "stdout")), first);
  auto bad = a;
  bad[7] = "cooking";
  EXPECT_EQ(wait_exit(spawn(bad, dir)), 1);
  EXPECT_NE(read_file(dir / "stderr").find("cooking"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace inference::test
