// The llama_server backend's process handling against a scripted stand-in server and shell
// scripts: finding the binary, the command line it gets, a server that exits at start or never
// becomes healthy, one killed mid-request (error names the signal; the next request restarts
// it), close() reaping the child (no zombie), and the bounded output ring.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "backends/llama_server/find_server_binary.hpp"
#include "backends/llama_server/llama_server_model.hpp"
#include "backends/llama_server/output_ring.hpp"
#include "inference/backend.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

using std::chrono::milliseconds;

std::string write_script(const std::string& name, const std::string& body) {
  auto dir = make_temp_dir("llama_server_test");
  auto path = (dir / name).string();
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

// Any existing file will do as the "model": the stand-in does not read it.
std::string model_file() {
  static std::string path = [] {
    auto p = make_temp_dir("llama_server_model") / "tiny.gguf";
    std::ofstream(p) << "not read by the scripted server";
    return p.string();
  }();
  return path;
}

LoadConfig scripted(std::map<std::string, std::string> options = {}) {
  LoadConfig c;
  c.backend = "llama_server";
  c.executable = SCRIPTED_LLAMA_SERVER;  // enough on its own: nothing in the environment needed
  c.options = {{"grace_ms", "2000"}, {"restart_backoff_ms", "10"}, {"retry_base_ms", "5"}};
  for (auto& [k, v] : options) c.options[k] = v;
  return c;
}

bool process_gone(pid_t pid) {
  return ::kill(pid, 0) == -1 && errno == ESRCH;  // a zombie would still answer
}

// Restores an environment variable when the test ends, however it ends.
class SavedEnv {
 public:
  explicit SavedEnv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) value_ = v;
  }
  ~SavedEnv() {
    if (value_)
      ::setenv(name_, value_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> value_;
};

TEST(LlamaServerBinary, ConfiguredThenEnvironmentThenPath) {
  SavedEnv saved_env("INFERENCE_LLAMA_SERVER");
  std::string why;
  auto script = write_script("llama-server", "exit 0");
  EXPECT_EQ(llama_server::find_server_binary(script, &why), script);
  EXPECT_FALSE(llama_server::find_server_binary("/no/such/server", &why));
  EXPECT_NE(why.find("/no/such/server"), std::string::npos);

  const char* old_path = std::getenv("PATH");
  std::string saved_path = old_path ? old_path : "";
  ::setenv("INFERENCE_LLAMA_SERVER", script.c_str(), 1);
  EXPECT_EQ(llama_server::find_server_binary("", &why), script);
  ::unsetenv("INFERENCE_LLAMA_SERVER");
  ::setenv("PATH", std::filesystem::path(script).parent_path().c_str(), 1);
  EXPECT_EQ(llama_server::find_server_binary("", &why),
            (std::filesystem::path(script).parent_path() / "llama-server").string());
  EXPECT_TRUE(get_backend("llama_server")->available());
  ::setenv("PATH", "/nonexistent", 1);
  EXPECT_FALSE(get_backend("llama_server")->available());
  EXPECT_NE(get_backend("llama_server")->unavailable_reason().find("PATH"), std::string::npos);
  ::setenv("PATH", saved_path.c_str(), 1);
}

// A binary named only in LoadConfig::executable is enough to load: the registry asks the
// backend about this configuration, not about the environment alone.
TEST(LlamaServerBinary, ConfiguredBinaryAloneMakesTheBackendAvailable) {
  SavedEnv saved_env("INFERENCE_LLAMA_SERVER");
  SavedEnv saved_path("PATH");
  ::unsetenv("INFERENCE_LLAMA_SERVER");
  ::setenv("PATH", "/nonexistent", 1);
  auto backend = get_backend("llama_server");
  EXPECT_FALSE(backend->available());
  LoadConfig c = scripted();
  EXPECT_TRUE(backend->available_for(c));
  EXPECT_EQ(backend->unavailable_reason_for(c), "");
  auto model = load_model(model_file(), c);
  auto stream = model->generate(Context::background(), "Hi", {.max_tokens = 2});
  for (const Token& tok : stream) (void)tok;
  EXPECT_TRUE(stream.err().ok()) << stream.err().to_string();
  model->close();

  c.executable = "/no/such/llama-server";
  EXPECT_FALSE(backend->available_for(c));
  EXPECT_NE(backend->unavailable_reason_for(c).find("/no/such/llama-server"), std::string::npos);
}

TEST(LlamaServerProcess, PassesTheLoadOptionsOnItsCommandLine) {
  LoadConfig c = scripted();
  c.context_length = 96;
  c.parallel_slots = 2;
  c.threads = 1;
  c.gpu_layers = 0;
  c.adapter_path = "/tmp/adapter.gguf";
  auto model = load_model(model_file(), c);
  EXPECT_EQ(model->info().backend, "llama_server");
  EXPECT_EQ(model->info().context_length, 96);  // read back from /props
  auto* m = dynamic_cast<llama_server::LlamaServerModel*>(model.get());
  ASSERT_NE(m, nullptr);
  std::ifstream cmdline("/proc/" + std::to_string(m->server_pid()) + "/cmdline");
  std::string args((std::istreambuf_iterator<char>(cmdline)), {});
  for (auto& ch : args)
    if (ch == '\0') ch = ' ';
  for (const std::string& want :
       {"-m " + model_file(), std::string("-c 96"), std::string("-np 2"), std::string("-t 1"),
        std::string("-ngl 0"), std::string("--lora /tmp/adapter.gguf"),
        std::string("--host 127.0.0.1 --port ")})
    EXPECT_NE(args.find(want), std::string::npos) << want << " not in: " << args;
}

TEST(LlamaServerProcess, ExitAtStartIsALoadErrorWithStatusAndOutput) {
  LoadConfig c = scripted();
  c.executable = write_script("failing-server", "echo 'error: unable to load model' >&2\nexit 3");
  try {
    load_model(model_file(), c);
    FAIL() << "load must fail";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.code(), ErrorCode::backend);
    EXPECT_NE(what.find("exited with status 3 during startup"), std::string::npos) << what;
    EXPECT_NE(what.find("unable to load model"), std::string::npos) << what;
  }
}

TEST(LlamaServerProcess, NeverHealthyTimesOutAndLeavesNoProcess) {
  LoadConfig c = scripted({{"startup_timeout_ms", "300"}, {"grace_ms", "200"}});
  auto pidfile = make_temp_dir("llama_server_pid") / "pid";
  c.executable = write_script("silent-server", "echo $$ > " + pidfile.string() + "\nexec sleep 30");
  try {
    load_model(model_file(), c);
    FAIL() << "load must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did not become healthy within 300 ms"), std::string::npos)
        << e.what();
  }
  pid_t pid = std::stoi(read_file(pidfile));
  EXPECT_TRUE(process_gone(pid));
}

TEST(LlamaServerProcess, StreamsRealIdsHonoursStopTokensAndClassifies) {
  auto model = load_model(model_file(), scripted());
  std::vector<int32_t> ids;
  std::string text;
  auto stream = model->generate(Context::background(), "Hi", {.max_tokens = 5});
  for (const Token& t : stream) {
    ids.push_back(t.id);
    text += t.text;
  }
  ASSERT_TRUE(stream.err().ok()) << stream.err().message;
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(text, "t0t1t2t3t4");
  auto m = stream.metrics();
  EXPECT_EQ(m.prompt_tokens, 3);  // from the server's timings
  EXPECT_EQ(m.generated_tokens, 5);
  // The rates are the server's own timings (prompt_ms 1.5, predicted_ms 100), not our clock.
  EXPECT_EQ(m.prefill_duration, std::chrono::microseconds(1500));
  EXPECT_EQ(m.decode_duration, std::chrono::milliseconds(100));
  EXPECT_NEAR(m.prefill_tokens_per_second, 2000.0, 1e-6);
  EXPECT_NEAR(m.decode_tokens_per_second, 50.0, 1e-9);
  EXPECT_GT(m.time_to_first_token.count(), 0);

  auto stopped =
      model->generate(Context::background(), "Hi", {.max_tokens = 5, .stop_tokens = {2}});
  std::string got;
  for (const Token& t : stopped) got += t.text;
  EXPECT_EQ(got, "t0t1");
  EXPECT_EQ(stopped.finish_reason(), FinishReason::stop_token);

  std::vector<std::string> prompts = {"a", "b"};
  auto results = model->classify(Context::background(), prompts);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].token.id, 0);
  EXPECT_EQ(results[0].token.text, "t0");
  ASSERT_TRUE(results[0].token.logprob);
  EXPECT_FLOAT_EQ(*results[0].token.logprob, -0.1f);
}

TEST(LlamaServerProcess, KilledMidRequestNamesTheSignalAndTheNextRequestRestarts) {
  auto model = load_model(model_file(), scripted());
  auto* m = dynamic_cast<llama_server::LlamaServerModel*>(model.get());
  pid_t first = m->server_pid();
  auto stream = model->generate(Context::background(), "Hi", {.max_tokens = 500});
  Token t;
  ASSERT_TRUE(stream.next(t));
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  while (stream.next(t)) {
  }
  EXPECT_EQ(stream.err().code, ErrorCode::backend);
  EXPECT_NE(stream.err().message.find("killed by signal 9"), std::string::npos)
      << stream.err().message;
  EXPECT_NE(stream.err().message.find("scripted llama-server starting"), std::string::npos)
      << stream.err().message;  // the output ring's last lines

  std::string text;
  auto again = model->generate(Context::background(), "Hi", {.max_tokens = 2});
  for (const Token& tok : again) text += tok.text;
  ASSERT_TRUE(again.err().ok()) << again.err().message;
  EXPECT_EQ(text, "t0t1");
  EXPECT_NE(m->server_pid(), first);
  EXPECT_TRUE(process_gone(first));  // reaped, not a zombie
}

TEST(LlamaServerProcess, CancellationEndsTheStreamAndCloseReapsTwiceSafely) {
  auto model = load_model(model_file(), scripted());
  auto* m = dynamic_cast<llama_server::LlamaServerModel*>(model.get());
  Context ctx = Context::background().with_cancel();
  auto stream = model->generate(ctx, "Hi", {.max_tokens = 500});
  Token t;
  ASSERT_TRUE(stream.next(t));
  ctx.cancel();
  EXPECT_FALSE(stream.next(t));
  EXPECT_EQ(stream.err().code, ErrorCode::cancelled);

  pid_t pid = m->server_pid();
  ASSERT_GT(pid, 0);
  model->close();
  model->close();
  EXPECT_TRUE(process_gone(pid));
  auto after = model->generate(Context::background(), "Hi");
  for (const Token& tok : after) (void)tok;
  EXPECT_EQ(after.err().code, ErrorCode::unavailable);
}

TEST(LlamaServerProcess, MissingModelFileAndMissingBinaryAreClearErrors) {
  try {
    load_model("/no/such/model.gguf", scripted());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  LoadConfig c = scripted();
  c.executable = "/no/such/llama-server";
  try {
    load_model(model_file(), c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(std::string(e.what()).find("/no/such/llama-server"), std::string::npos);
  }
}

TEST(OutputRing, KeepsTheLastLinesBounded) {
  llama_server::OutputRing ring(3, 10);
  ring.append("one\ntwo\nthr");
  ring.append("ee\nfour\n");
  ring.append(std::string(100, 'x') + "\npartial");
  EXPECT_EQ(ring.tail(10), "three\nfour\nxxxxxxxxxx\npartial");  // 3 lines + the partial one
  EXPECT_EQ(ring.tail(1), "partial");
}

}  // namespace
}  // namespace inference::test
