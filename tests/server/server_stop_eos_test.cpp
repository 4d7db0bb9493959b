// Which stop string ended a generation, where an API has a field for it (llama-server's
// `stopping_word`, Anthropic's `stop_sequence`), and llama-server's `ignore_eos` on the
// endpoints where llama-server accepts it (/completion and the OpenAI ones).
#include <gtest/gtest.h>

#include <string>

#include "http_test_client.hpp"
#include "inference/capabilities.hpp"
#include "live_server.hpp"

namespace inference::server {
namespace {

using test::json;
using test::post;

// A 3-byte ASCII piece of `text` from byte 2 on that does not occur earlier ("" if none).
std::string ascii_stop_in(const std::string& text) {
  for (size_t i = 2; i + 3 <= text.size(); ++i) {
    const std::string s = text.substr(i, 3);
    bool ascii = true;
    for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii && text.find(s) == i) return s;
  }
  return "";
}

TEST(ServerStopStrings, LlamaCompletionNamesTheStopStringThatMatched) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  const std::string text = greedy(*s.model, "Hello world", 12);
  const std::string stop = ascii_stop_in(text);
  ASSERT_FALSE(stop.empty()) << text;
  // Two candidates: only the engine knows which one matched.
  const json r = post(s.port, "/completion",
                      json{{"prompt", "Hello world"},
                           {"n_predict", 12},
                           {"temperature", 0},
                           {"stop", {"never-in-this-text", stop}}})
                     .json_body();
  EXPECT_EQ(r["content"], text.substr(0, text.find(stop)));
  EXPECT_EQ(r["stop_type"], "word");
  EXPECT_EQ(r["stopping_word"], stop);
  const json limit = post(s.port, "/completion",
                          json{{"prompt", "Hello world"}, {"n_predict", 3}, {"temperature", 0}})
                         .json_body();
  EXPECT_EQ(limit["stop_type"], "limit");
  EXPECT_EQ(limit["stopping_word"], "");
}

TEST(ServerStopStrings, AnthropicMessagesNameTheStopSequenceThatMatched) {
  REQUIRE_MODELS();
  LiveServer s(spm_model());
  json req = {{"model", "m"},
              {"max_tokens", 16},
              {"temperature", 0},
              {"messages", {{{"role", "user"}, {"content", "Write a haiku."}}}}};
  const json plain = post(s.port, "/v1/messages", req).json_body();
  const std::string text = plain["content"][0]["text"];
  const std::string stop = ascii_stop_in(text);
  ASSERT_FALSE(stop.empty()) << text;
  req["stop_sequences"] = {"never-in-this-text", stop};
  const json stopped = post(s.port, "/v1/messages", req).json_body();
  EXPECT_EQ(stopped["stop_reason"], "stop_sequence");
  EXPECT_EQ(stopped["stop_sequence"], stop);
  EXPECT_EQ(stopped["content"][0]["text"], text.substr(0, text.find(stop)));
  // Streamed: the message_delta event carries it.
  req["stream"] = true;
  bool seen = false;
  for (const auto& e : test::parse_sse(post(s.port, "/v1/messages", req).body)) {
    if (e.event != "message_delta") continue;
    seen = true;
    EXPECT_EQ(e.json_data()["delta"]["stop_sequence"], stop);
  }
  EXPECT_TRUE(seen);
}

TEST(ServerIgnoreEos, GenerationGoesOnPastTheEndToken) {
  REQUIRE_MODELS();
  LiveServer s(bpe_model());
  auto* tok = dynamic_cast<TokenizerModel*>(s.model.get());
  ASSERT_NE(tok, nullptr);
  const auto eos = tok->encode("<|endoftext|>", false, true);
  ASSERT_EQ(eos.size(), 1u);
  // The end token made certain: without ignore_eos the generation ends at once.
  const json bias = {{std::to_string(eos[0]), 100}};
  json req = {
      {"prompt", "Hello world"}, {"max_tokens", 5}, {"temperature", 0}, {"logit_bias", bias}};
  const json ended = post(s.port, "/v1/completions", req).json_body();
  EXPECT_EQ(ended["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(ended["usage"]["completion_tokens"], 0);
  req["ignore_eos"] = true;
  const json on = post(s.port, "/v1/completions", req).json_body();
  EXPECT_EQ(on["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(on["usage"]["completion_tokens"], 5);

  json chat = {{"messages", {{{"role", "user"}, {"content", "hi"}}}},
               {"max_tokens", 4},
               {"temperature", 0},
               {"logit_bias", bias},
               {"ignore_eos", true}};
  const json chat_on = post(s.port, "/v1/chat/completions", chat).json_body();
  EXPECT_EQ(chat_on["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(chat_on["usage"]["completion_tokens"], 4);

  const json llama = post(s.port, "/completion",
                          json{{"prompt", "Hello world"},
                               {"n_predict", 4},
                               {"temperature", 0},
                               {"logit_bias", {{eos[0], 100.0}}},
                               {"ignore_eos", true}})
                         .json_body();
  EXPECT_EQ(llama["stop_type"], "limit");
  EXPECT_EQ(llama["tokens_predicted"], 4);
  EXPECT_EQ(post(s.port, "/v1/completions", json{{"prompt", "x"}, {"ignore_eos", "yes"}}).status,
            400);
}

}  // namespace
}  // namespace inference::server
