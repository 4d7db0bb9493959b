// The SSE parser against the WHATWG event-stream rules, fed whole and one byte at a time.
#include "net/sse_parser.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace inference::net {
namespace {

std::vector<SseEvent> parse(std::string_view text, size_t chunk = 0) {
  SseParser parser;
  std::vector<SseEvent> out;
  auto cb = [&](const SseEvent& e) { out.push_back(e); };
  if (chunk == 0) {
    EXPECT_TRUE(parser.feed(text, cb).ok());
  } else {
    for (size_t i = 0; i < text.size(); i += chunk)
      EXPECT_TRUE(parser.feed(text.substr(i, chunk), cb).ok());
  }
  return out;
}

TEST(SseParser, FieldsMultiLineDataAndComments) {
  const std::string text =
      ": keep-alive comment\n"
      "event: delta\n"
      "id: 7\n"
      "data: first\n"
      "data:second\n"
      "retry: 1500\n"
      "unknown: ignored\n"
      "\n"
      "data: plain\n\n";
  for (size_t chunk : {0, 1, 2, 5}) {
    auto events = parse(text, chunk);
    ASSERT_EQ(events.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(events[0].type, "delta");
    EXPECT_EQ(events[0].data, "first\nsecond");
    EXPECT_EQ(events[0].id, "7");
    EXPECT_EQ(events[1].type, "message");
    EXPECT_EQ(events[1].data, "plain");
    EXPECT_EQ(events[1].id, "7");  // the last event id persists
  }
}

TEST(SseParser, CrLfAndCrLineEndsEvenWhenSplitBetweenFeeds) {
  const std::string text = "data: a\r\n\r\ndata: b\r\rdata: c\n\n";
  for (size_t chunk : {0, 1, 3}) {
    auto events = parse(text, chunk);
    ASSERT_EQ(events.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(events[0].data, "a");
    EXPECT_EQ(events[1].data, "b");
    EXPECT_EQ(events[2].data, "c");
  }
}

TEST(SseParser, EdgeCasesOfTheSpec) {
  // Only one leading space is stripped; a field without a colon has an empty value; an event
  // without data is not dispatched; "data" alone adds an empty line; a BOM is skipped.
  auto events = parse(
      "\xEF\xBB\xBF"
      "data:  two spaces\n\nevent: x\n\ndata\ndata\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, " two spaces");
  EXPECT_EQ(events[1].type, "message");  // the type of the dropped event is forgotten
  EXPECT_EQ(events[1].data, "\n");
  // An unterminated event at the end is not dispatched.
  EXPECT_TRUE(parse("data: never finished\n").empty());
  // A bad retry value is ignored.
  SseParser p;
  EXPECT_TRUE(p.feed("retry: 12x\n\n", [](const SseEvent&) {}).ok());
  EXPECT_FALSE(p.retry_ms().has_value());
  EXPECT_TRUE(p.feed("retry: 300\n\n", [](const SseEvent&) {}).ok());
  EXPECT_EQ(p.retry_ms(), 300);
}

TEST(SseParser, AnOversizedEventIsAnErrorNotAnAllocation) {
  SseParser parser(64);
  std::string big = "data: " + std::string(100, 'x');
  Status s = parser.feed(big, [](const SseEvent&) {});
  EXPECT_EQ(s.code, ErrorCode::invalid_argument);
  EXPECT_NE(s.message.find("64"), std::string::npos);
  EXPECT_FALSE(parser.feed("\n\n", [](const SseEvent&) { FAIL(); }).ok());  // stays failed
}

}  // namespace
}  // namespace inference::net
