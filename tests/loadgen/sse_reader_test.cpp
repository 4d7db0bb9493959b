#include "loadgen/sse_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace inference::loadgen {
namespace {

std::vector<std::string> events_of(const std::vector<std::string>& pieces) {
  std::vector<std::string> out;
  SseReader reader([&](std::string_view d) {
    out.emplace_back(d);
    return true;
  });
  for (const auto& p : pieces) EXPECT_TRUE(reader.feed(p)) << reader.error();
  return out;
}

TEST(SseReader, EventsSplitAnywhereInTheByteStream) {
  const std::string stream = "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";
  const std::vector<std::string> expected = {"{\"a\":1}", "{\"b\":2}", "[DONE]"};
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(events_of({stream.substr(0, cut), stream.substr(cut)}), expected) << "cut at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  EXPECT_EQ(events_of(bytes), expected);
}

TEST(SseReader, CrLfAndCrLineEnds) {
  EXPECT_EQ(events_of({"data: x\r\n\r\ndata: y\r\rdata: z\n\n"}),
            (std::vector<std::string>{"x", "y", "z"}));
  // A CRLF split between two reads is still one line end.
  EXPECT_EQ(events_of({"data: x\r", "\n\r", "\n"}), (std::vector<std::string>{"x"}));
}

TEST(SseReader, MultiLineDataCommentsAndOtherFields) {
  EXPECT_EQ(events_of({": keep-alive\n\nevent: message_start\nid: 3\ndata: a\ndata:b\n\n"}),
            (std::vector<std::string>{"a\nb"}));
  EXPECT_TRUE(events_of({"event: ping\n\n"}).empty());  // no data, no event
}

TEST(SseReader, IncompleteEventIsNotDelivered) {
  EXPECT_TRUE(events_of({"data: partial\n"}).empty());
}

TEST(SseReader, CallbackCanStopReading) {
  int calls = 0;
  SseReader reader([&](std::string_view) { return ++calls < 2; });
  EXPECT_FALSE(reader.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(reader.error().empty());
  EXPECT_FALSE(reader.feed("data: 4\n\n"));
  EXPECT_EQ(calls, 2);
}

TEST(SseReader, EndlessEventIsAnErrorNotUnboundedMemory) {
  SseReader reader([](std::string_view) { return true; }, 64);
  EXPECT_TRUE(reader.feed("data: " + std::string(40, 'x') + "\n"));
  EXPECT_FALSE(reader.feed("data: " + std::string(40, 'y') + "\n"));
  EXPECT_NE(reader.error().find("64"), std::string::npos) << reader.error();
}

}  // namespace
}  // namespace inference::loadgen
