// infer train end to end: a run killed with SIGKILL after a few checkpoints and resumed with
// --resume writes the same adapter, byte for byte, as a run that was never interrupted; usage
// errors exit 2.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "run_infer.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

std::vector<std::string> train_args(const std::filesystem::path& data,
                                    const std::filesystem::path& out) {
  return {"train",        (testdata_dir() / "models" / "llama" / "llama-F32.gguf").string(),
          "--data",       data.string(),
          "--out",        out.string(),
          "--steps",      "24",
          "--batch-size", "2",
          "--save-every", "1",
          "--lr",         "0.01",
          "--targets",    "q_proj,v_proj,down_proj",
          "-t",           "1"};
}

TEST(TrainCli, KilledRunResumesToTheSameAdapter) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto dir = make_temp_dir("train_cli");
  {
    std::ofstream data(dir / "data.jsonl");
    for (int i = 0; i < 12; ++i)
      data << "{\"text\": \"line " << i << " says " << i * 7 << " and more words\"}\n";
  }
  const auto straight = run_infer(train_args(dir / "data.jsonl", dir / "straight"));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;

  auto args = train_args(dir / "data.jsonl", dir / "killed");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> argv;
    std::string exe = INFER_EXE;
    argv.push_back(exe.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stderr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(dir / "killed" / "checkpoint-00000005") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status)) GTEST_SKIP() << "the run finished before it could be killed";
  EXPECT_FALSE(std::filesystem::exists(dir / "killed" / "adapter_model.safetensors"));

  args.push_back("--resume");
  const auto resumed = run_infer(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resumed at"), std::string::npos) << resumed.err;
  EXPECT_EQ(read_file(dir / "straight" / "adapter_model.safetensors"),
            read_file(dir / "killed" / "adapter_model.safetensors"));
  std::filesystem::remove_all(dir);
}

TEST(TrainCli, UsageErrors) {
  EXPECT_EQ(run_infer({"train"}).exit_code, 2);
  EXPECT_EQ(
      run_infer({"train", "m.gguf", "--data", "d", "--out", "o", "--schedule", "linear"}).exit_code,
      2);
  const auto missing =
      run_infer({"train", "/nonexistent.gguf", "--data", "d.jsonl", "--out", "/tmp/x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_FALSE(missing.err.empty());
}

}  // namespace
}  // namespace inference::test
