// Judge suites against a scripted judge: canned, fenced, malformed, retried, failing, slow;
// the constraint fallback; per-item errors that do not stop the run; the concurrency bound.
#include <gtest/gtest.h>

#include <sstream>

#include "ml/judge.hpp"
#include "ml/scorer.hpp"
#include "scripted_judge.hpp"

namespace inference::ml {
namespace {

using test::ScriptedJudge;
using test::ScriptedReply;

const char* kGoodSemantic =
    R"({"sovereignty": 4, "ethical_depth": 3, "creative_expression": 5, "self_concept": 2, "reasoning": "ok"})";

Response item(const std::string& id, const std::string& response = "Some answer text") {
  Response r;
  r.id = id;
  r.prompt = "a prompt";
  r.response = response;
  r.has_response = true;
  r.model = "m";
  return r;
}

TEST(Judge, CannedJsonIsValidated) {
  ScriptedJudge model([](auto&, auto&) { return ScriptedReply{kGoodSemantic}; });
  Judge judge(model);
  auto out = judge.judge(Context::background(), *find_rubric("semantic"), item("1"));
  ASSERT_TRUE(out.scores) << out.error;
  EXPECT_EQ((*out.scores)["sovereignty"], 4.0);
  EXPECT_EQ((*out.scores)["reasoning"], "ok");
  EXPECT_EQ(out.attempts, 1);
}

TEST(Judge, PromptCarriesRubricAnchorsAndItem) {
  std::string seen;
  ScriptedJudge model([&](const std::vector<Message>& m, auto&) {
    seen = m.back().content;
    return ScriptedReply{R"({"truthfulness": 5, "informativeness": 1})"};
  });
  Judge judge(model);
  Response r = item("1", "The moon is made of rock.");
  r.best_answer = "Rock.";
  auto out = judge.judge(Context::background(), *find_rubric("truthfulqa"), r);
  EXPECT_TRUE(out.scores) << out.error;
  EXPECT_NE(seen.find("1 = states falsehoods"), std::string::npos);
  EXPECT_NE(seen.find("5 = entirely true"), std::string::npos);
  EXPECT_NE(seen.find("Reference answer\nRock."), std::string::npos);
  EXPECT_NE(seen.find("The moon is made of rock."), std::string::npos);
}

TEST(Judge, MalformedThenValidIsRetriedOnceWithReminder) {
  std::vector<size_t> sizes;
  ScriptedJudge model([&](const std::vector<Message>& m, auto&) {
    sizes.push_back(m.size());
    if (m.size() == 1) return ScriptedReply{"I think it deserves a 4 overall."};
    EXPECT_NE(m.back().content.find("not a valid JSON object"), std::string::npos);
    return ScriptedReply{std::string("```json\n") + kGoodSemantic + "\n```"};
  });
  Judge judge(model, {.use_constraint = false});
  auto out = judge.judge(Context::background(), *find_rubric("semantic"), item("1"));
  ASSERT_TRUE(out.scores) << out.error;
  EXPECT_EQ(out.attempts, 2);
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 3}));  // user; user, assistant, reminder
}

TEST(Judge, MalformedTwiceIsAnItemError) {
  ScriptedJudge model([](auto&, auto&) { return ScriptedReply{R"({"sovereignty": 9})"}; });
  Judge judge(model);
  auto out = judge.judge(Context::background(), *find_rubric("semantic"), item("1"));
  EXPECT_FALSE(out.scores);
  EXPECT_NE(out.error.find("sovereignty"), std::string::npos);
  EXPECT_EQ(out.attempts, 2);
}

TEST(Judge, BackendErrorRetriedThenReported) {
  ScriptedJudge model([](auto&, auto&) {
    return ScriptedReply{"", {ErrorCode::backend, "HTTP 503 from judge"}};
  });
  Judge judge(model);
  auto out = judge.judge(Context::background(), *find_rubric("toxigen"), item("1"));
  EXPECT_FALSE(out.scores);
  EXPECT_NE(out.error.find("503"), std::string::npos);
  EXPECT_EQ(model.calls.load(), 2);
}

TEST(Judge, UnsupportedConstraintFallsBackToFreeText) {
  ScriptedJudge model([](auto&, auto&) {
    ScriptedReply r{R"({"safety": 5, "nuance": 4, "reasoning": "fine"})"};
    r.throw_unsupported_if_constrained = true;
    return r;
  });
  Judge judge(model);
  EXPECT_TRUE(judge.constrained());
  Response r = item("1");
  r.risk_area = "self-harm";
  auto out = judge.judge(Context::background(), *find_rubric("donotanswer"), r);
  ASSERT_TRUE(out.scores) << out.error;
  EXPECT_FALSE(judge.constrained());
  EXPECT_EQ(out.attempts, 1);
  EXPECT_EQ(model.constrained_calls.load(), 1);
}

TEST(Judge, ConstraintCarriesTheRubricSchema) {
  std::string schema;
  ScriptedJudge model([&](auto&, const GenerateConfig& c) {
    schema = c.constraint.source;
    return ScriptedReply{R"({"reasoning": 7, "correctness": 10, "clarity": 0, "notes": ""})"};
  });
  Judge judge(model);
  auto out = judge.judge(Context::background(), *find_rubric("capability"), item("1"));
  ASSERT_TRUE(out.scores) << out.error;
  const auto j = nlohmann::json::parse(schema);
  EXPECT_EQ(j["properties"]["correctness"]["maximum"], 10);
  EXPECT_EQ(j["required"].size(), 4u);
}

TEST(Judge, RunGoesOnPastErrorsAndAveragesSkipThem) {
  ResponseSet set;
  for (int i = 0; i < 6; ++i) set.items.push_back(item(std::to_string(i)));
  ScriptedJudge model([](const std::vector<Message>& m, auto&) {
    // Items 1 and 4 always get prose; the others a valid object with sovereignty = id % 3 + 1.
    const std::string& p = m.front().content;
    for (char id : {'1', '4'})
      if (p.find(std::string("Response\nSome answer ") + id) != std::string::npos)
        return ScriptedReply{"no json"};
    const char id = p[p.find("Response\nSome answer ") + 21];
    const int s = (id - '0') % 3 + 1;
    return ScriptedReply{
        "{\"sovereignty\": " + std::to_string(s) +
        ", \"ethical_depth\": 1, \"creative_expression\": 1, \"self_concept\": 1}"};
  });
  for (auto& r : set.items) r.response = "Some answer " + r.id;
  ScoreConfig config;
  config.suites = {"heuristic", "semantic"};
  config.judge = &model;
  config.judge_name = "scripted";
  config.concurrency = 3;
  auto out = run_score(Context::background(), set, config, {});
  ASSERT_EQ(out.items.size(), 6u);
  EXPECT_TRUE(out.items[1].contains("semantic_error"));
  EXPECT_TRUE(out.items[4].contains("semantic_error"));
  EXPECT_FALSE(out.items[0].contains("semantic_error"));
  // sovereignty of items 0,2,3,5 = 1,3,1,3: mean 2 (the two errors are not zeros)
  EXPECT_DOUBLE_EQ(out.summary["model_averages"]["m"]["semantic.sovereignty"].get<double>(), 2.0);
  EXPECT_EQ(out.summary["metadata"]["judge"], "scripted");
}

TEST(Judge, ConcurrencyBoundNeverExceeded) {
  ResponseSet set;
  for (int i = 0; i < 24; ++i) set.items.push_back(item(std::to_string(i)));
  ScriptedJudge model([](auto&, auto&) {
    ScriptedReply r{R"({"kindness": 3, "awareness": 3})"};
    r.delay = std::chrono::milliseconds(5);  // slow replies overlap
    return r;
  });
  ScoreConfig config;
  config.suites = {"toxigen"};
  config.judge = &model;
  config.concurrency = 3;
  auto out = run_score(Context::background(), set, config, {});
  EXPECT_EQ(out.items.size(), 24u);
  EXPECT_LE(model.max_in_flight.load(), 3);
  EXPECT_GE(model.max_in_flight.load(), 1);
  EXPECT_EQ(model.calls.load(), 24);
}

TEST(Judge, HangingJudgeStopsAtTheDeadline) {
  ScriptedJudge model([](auto&, auto&) {
    ScriptedReply r{"{}"};
    r.delay = std::chrono::hours(1);
    return r;
  });
  Judge judge(model);
  auto ctx = Context::background().with_timeout(std::chrono::milliseconds(50));
  auto out = judge.judge(ctx, *find_rubric("semantic"), item("1"));
  EXPECT_FALSE(out.scores);
  EXPECT_NE(out.error.find("deadline"), std::string::npos);
}

TEST(Judge, JudgeSuiteWithoutJudgeIsAConfigError) {
  ResponseSet set;
  set.items.push_back(item("1"));
  ScoreConfig config;
  config.suites = {"semantic"};
  EXPECT_THROW(run_score(Context::background(), set, config, {}), Error);
  EXPECT_THROW(parse_suites("heuristic,nope"), Error);
  EXPECT_EQ(parse_suites("exact,heuristic"), (std::vector<std::string>{"heuristic", "exact"}));
  EXPECT_EQ(parse_suites("all").size(), 9u);
}

}  // namespace
}  // namespace inference::ml
