// `infer template`: renders byte-exact to stdout from a template file, a Hugging Face
// tokenizer_config.json / directory and a GGUF file; a raising template exits 1 with its
// message on stderr; bad usage exits 2. Runs the built infer binary (path compiled in).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/testdata.hpp"

namespace inference::chat {
namespace {

using Json = nlohmann::ordered_json;

struct InferResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

InferResult infer(const std::vector<std::string>& args) {
  auto dir = test::make_temp_dir("infer_template");
  std::string command = quote(INFER_EXE) + " template";
  for (const auto& a : args) command += " " + quote(a);
  command += " >" + quote((dir / "out").string()) + " 2>" + quote((dir / "err").string());
  int status = std::system(command.c_str());
  InferResult run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = test::read_file(dir / "out");
  run.err = test::read_file(dir / "err");
  std::filesystem::remove_all(dir);
  return run;
}

std::filesystem::path write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

class TemplateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::testdata_dir() / "templates")) {
      GTEST_SKIP() << "shared test data not found";
    }
    dir_ = test::make_temp_dir("template_cli");
    auto t = test::testdata_dir() / "templates";
    cases_ = Json::parse(test::read_file(t / "cases.json"));
    expected_ = Json::parse(test::read_file(t / "expected.json"));
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  const Json& find_case(const std::string& name) const {
    for (const auto& c : cases_["cases"]) {
      if (c["name"] == name) return c;
    }
    throw std::runtime_error("no case " + name);
  }
  std::string expected_text(const std::string& tmpl, const std::string& c) const {
    for (const auto& r : expected_["results"]) {
      if (r["template"] == tmpl && r["case"] == c) return r["text"].get<std::string>();
    }
    throw std::runtime_error("no expectation " + tmpl + "/" + c);
  }
  std::filesystem::path template_path(const std::string& name) const {
    return test::testdata_dir() / "templates" / (name + ".jinja");
  }

  std::filesystem::path dir_;
  Json cases_;
  Json expected_;
};

TEST_F(TemplateCli, TemplateFileWithToolsObjectIsByteExact) {
  const Json& c = find_case("tool_call_and_result");
  Json input = {
      {"messages", c["messages"]}, {"tools", c["tools"]}, {"add_generation_prompt", true}};
  auto messages = write(dir_ / "in.json", input.dump());
  InferResult run =
      infer({"--template", template_path("llama-3.1-8b-instruct").string(), "--messages",
             messages.string(), "--bos", "<|begin_of_text|>", "--eos", "<|eot_id|>"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, expected_text("llama-3.1-8b-instruct", "tool_call_and_result"));
}

TEST_F(TemplateCli, MessageListToolsFileAndExtraVariables) {
  const Json& c = find_case("tools_available");
  auto messages = write(dir_ / "messages.json", c["messages"].dump());
  auto tools = write(dir_ / "tools.json", c["tools"].dump());
  InferResult run =
      infer({"--template", template_path("qwen2.5-7b-instruct").string(), "--messages",
             messages.string(), "--tools", tools.string(), "--add-generation-prompt"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, expected_text("qwen2.5-7b-instruct", "tools_available"));

  const Json& d = find_case("date_string");
  Json input = {
      {"messages", d["messages"]}, {"add_generation_prompt", true}, {"date_string", "05 Jan 2025"}};
  auto with_date = write(dir_ / "date.json", input.dump());
  run = infer({"--template", template_path("llama-3.1-8b-instruct").string(), "--messages",
               with_date.string(), "--bos", "<|begin_of_text|>"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, expected_text("llama-3.1-8b-instruct", "date_string"));
}

TEST_F(TemplateCli, HuggingFaceConfigAndDirectory) {
  Json config = {{"bos_token", {{"content", "<bos>"}, {"lstrip", false}}},
                 {"eos_token", "<end_of_turn>"},
                 {"chat_template", test::read_file(template_path("gemma3-it"))}};
  write(dir_ / "tokenizer_config.json", config.dump());
  auto messages = write(dir_ / "m.json", find_case("system_user")["messages"].dump());
  for (const auto& model : {dir_, dir_ / "tokenizer_config.json"}) {
    InferResult run =
        infer({model.string(), "--messages", messages.string(), "--add-generation-prompt"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, expected_text("gemma3-it", "system_user"));
  }
}

TEST_F(TemplateCli, GgufTemplateAndSpecialTokens) {
  auto gguf = test::testdata_dir() / "vocab" / "peer-vocab-gemma3.gguf";
  if (!std::filesystem::exists(gguf)) GTEST_SKIP() << "no " << gguf;
  auto messages = write(dir_ / "m.json", find_case("multi_turn")["messages"].dump());
  InferResult run =
      infer({gguf.string(), "--messages", messages.string(), "--add-generation-prompt"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, expected_text("gemma3-it", "multi_turn"));
}

TEST_F(TemplateCli, GgufWithoutTemplateUsesTheBuiltin) {
  auto gguf = test::testdata_dir() / "models" / "qwen2" / "qwen2-Q8_0.gguf";
  if (!std::filesystem::exists(gguf)) GTEST_SKIP() << "no " << gguf;
  auto messages = write(dir_ / "m.json", R"([{"role": "user", "content": "Hi"}])");
  InferResult run = infer({gguf.string(), "--messages", messages.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
            "assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST_F(TemplateCli, RaisingTemplateExitsOneWithItsMessage) {
  auto messages = write(dir_ / "m.json", find_case("two_users_in_a_row")["messages"].dump());
  InferResult run = infer({"--template", template_path("gemma3-it").string(), "--messages",
                           messages.string(), "--bos", "<bos>"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(run.out.empty());
  EXPECT_NE(run.err.find("Conversation roles must alternate user/assistant/user/assistant/..."),
            std::string::npos)
      << run.err;
}

TEST_F(TemplateCli, BadInputAndUsage) {
  auto messages = write(dir_ / "m.json", R"([{"role": "user", "content": "Hi"}])");
  EXPECT_EQ(infer({"--messages", messages.string()}).exit_code, 2);
  EXPECT_EQ(infer({"--template", template_path("gemma3-it").string()}).exit_code, 2);
  InferResult missing =
      infer({"--template", (dir_ / "nope.jinja").string(), "--messages", messages.string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.jinja"), std::string::npos) << missing.err;
  auto bad = write(dir_ / "bad.json", "{not json");
  EXPECT_EQ(infer({"--template", template_path("gemma3-it").string(), "--messages", bad.string()})
                .exit_code,
            1);
  auto broken = write(dir_ / "broken.jinja", "{% for x in %}");
  InferResult syntax = infer({"--template", broken.string(), "--messages", messages.string()});
  EXPECT_EQ(syntax.exit_code, 1);
  EXPECT_NE(syntax.err.find("syntax error"), std::string::npos) << syntax.err;
}

}  // namespace
}  // namespace inference::chat
