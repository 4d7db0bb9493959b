// Training data from JSONL with the model's own tokenizer and chat template (through the
// native backend's TokenizerModel): assistant turns only are trained, text lines train every
// token after the first, and malformed lines are errors naming the line.
#include <gtest/gtest.h>

#include <fstream>

#include "inference/backend.hpp"
#include "support/testdata.hpp"
#include "train/train_data.hpp"

namespace inference::train {
namespace {

std::unique_ptr<TextModel> micro_model() {
  return load_model(test::testdata_dir() / "models" / "llama" / "llama-F32.gguf",
                    {.backend = "native", .context_length = 64});
}

TEST(TrainData, ChatMasksOnlyTheAssistantTurns) {
  INFERENCE_REQUIRE_TESTDATA();
  auto model = micro_model();
  auto& tokenizer = dynamic_cast<TokenizerModel&>(*model);
  const std::vector<Message> messages = {{"user", "Hello there"},
                                         {"assistant", "General Kenobi"},
                                         {"user", "Again"},
                                         {"assistant", "Yes"}};
  const auto example = chat_example(messages, tokenizer);
  ASSERT_EQ(example.tokens.size(), example.mask.size());
  EXPECT_EQ(example.mask[0], 0);
  // The trained tokens decode to the two replies (with their end-of-turn markers).
  std::vector<int32_t> trained;
  for (size_t i = 0; i < example.tokens.size(); ++i)
    if (example.mask[i]) trained.push_back(example.tokens[i]);
  const std::string text = tokenizer.decode(trained);
  EXPECT_NE(text.find("General Kenobi"), std::string::npos) << text;
  EXPECT_NE(text.find("Yes"), std::string::npos) << text;
  EXPECT_EQ(text.find("Hello"), std::string::npos) << text;
  EXPECT_EQ(text.find("Again"), std::string::npos) << text;
}

TEST(TrainData, JsonlLinesAndErrors) {
  INFERENCE_REQUIRE_TESTDATA();
  auto model = micro_model();
  auto& tokenizer = dynamic_cast<TokenizerModel&>(*model);
  const auto dir = test::make_temp_dir("train_data");
  {
    std::ofstream(dir / "ok.jsonl")
        << "# comment\n\n"
        << R"({"text": "one two three four five six seven"})"
        << "\n"
        << R"({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b c"}]})"
        << "\n"
        << R"({"messages": [{"role": "user", "content": "no reply"}]})"
        << "\n";
  }
  const auto data = load_train_jsonl(dir / "ok.jsonl", tokenizer, 256);
  EXPECT_EQ(data.examples.size(), 2u);
  EXPECT_EQ(data.skipped, 1);  // the conversation without an assistant turn
  EXPECT_EQ(data.truncated, 0);
  const auto cut = load_train_jsonl(dir / "ok.jsonl", tokenizer, 4);
  EXPECT_GE(cut.truncated, 1);
  for (const auto& e : cut.examples) EXPECT_LE(e.tokens.size(), 4u);
  for (const char* bad : {"{not json", R"({"messages": [{"role": "robot", "content": "x"}]})",
                          R"({"prompt": "x"})", R"({"messages": "x"})"}) {
    std::ofstream(dir / "bad.jsonl") << R"({"text": "fine"})"
                                     << "\n"
                                     << bad << "\n";
    try {
      load_train_jsonl(dir / "bad.jsonl", tokenizer, 64);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bad.jsonl:2:"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(load_train_jsonl(dir / "missing.jsonl", tokenizer, 64), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace inference::train
