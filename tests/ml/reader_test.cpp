// The responses JSONL reader: blank and # lines, malformed lines counted with their numbers,
// the 1 MiB line cap, field types.
#include <gtest/gtest.h>

#include <sstream>

#include "ml/responses.hpp"

namespace inference::ml {
namespace {

TEST(ResponsesReader, SkipsAndReportsWithoutAborting) {
  std::stringstream in;
  in << "{\"id\":\"a\",\"prompt\":\"p\",\"response\":\"r\",\"model\":\"m\",\"elapsed_seconds\":1.5}"
        "\n"
     << "\n"
     << "# a comment\n"
     << "{broken\n"
     << "[1,2]\n"
     << "{\"id\":7,\"response\":\"x\",\"correct_answer\":42}\r\n"
     << "{\"prompt\":\"no id\"}\n"
     << "{\"id\":\"c\",\"question\":\"q\",\"choices\":[\"a\",\"b\"],\"answer\":1}";
  const auto set = read_responses(in);
  ASSERT_EQ(set.items.size(), 3u);
  EXPECT_EQ(set.items[0].id, "a");
  EXPECT_EQ(*set.items[0].elapsed_seconds, 1.5);
  EXPECT_EQ(set.items[1].id, "7");
  EXPECT_EQ(set.items[1].line, 6u);
  EXPECT_EQ(*set.items[1].correct_answer, "42");
  EXPECT_EQ(set.items[2].choices.size(), 2u);
  EXPECT_EQ(*set.items[2].answer, 1);
  ASSERT_EQ(set.problems.size(), 3u);
  EXPECT_EQ(set.problems[0].line, 4u);
  EXPECT_EQ(set.problems[1].line, 5u);
  EXPECT_EQ(set.problems[2].line, 7u);
  EXPECT_NE(set.problems[2].message.find("'id'"), std::string::npos);
  EXPECT_EQ(set.lines, 8u);
}

TEST(ResponsesReader, OverlongLineIsCutOffAndReported) {
  std::stringstream in;
  in << "{\"id\":\"" << std::string(kMaxJsonlLine + 10, 'x') << "\"}\n{\"id\":\"ok\"}\n";
  const auto set = read_responses(in);
  ASSERT_EQ(set.items.size(), 1u);
  EXPECT_EQ(set.items[0].id, "ok");
  ASSERT_EQ(set.problems.size(), 1u);
  EXPECT_EQ(set.problems[0].line, 1u);
}

TEST(ResponsesReader, WrongTypesNameTheField) {
  for (const char* line : {R"({"id":"a","response":5})", R"({"id":"a","choices":"x"})",
                           R"({"id":"a","choices":["x"],"answer":3})", R"({"id":1.5})",
                           R"({"id":"a","elapsed_seconds":"slow"})"}) {
    std::stringstream in(line);
    const auto set = read_responses(in);
    EXPECT_TRUE(set.items.empty()) << line;
    EXPECT_EQ(set.problems.size(), 1u) << line;
  }
}

}  // namespace
}  // namespace inference::ml
