// The native LogprobModel on the reference models: its log-likelihoods equal the sums over the
// engine's own full-sequence logits (what `infer logits --all` prints), and the reference
// goldens' greedy log-probabilities; choice and perplexity built on it.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "ml/logprob_suites.hpp"
#include "support/testdata.hpp"

namespace inference::ml {
namespace {

std::filesystem::path model_path(const std::string& dir, const std::string& file) {
  return test::testdata_dir() / "models" / dir / file;
}

// log P(ids[i+1] | ids[..i]) for every i, from one decode of the whole sequence (float64
// log-softmax), the way `infer logits --all` evaluates a prompt.
std::vector<double> reference_logprobs(const std::filesystem::path& path,
                                       const std::vector<int32_t>& ids) {
  // One engine per model file for the whole test binary: loading is the slow part.
  static std::map<std::string, std::unique_ptr<engine::Engine>> engines;
  auto& engine = engines[path.string()];
  if (!engine) engine = engine::Engine::load(path, {.context_length = 256, .kv_cache_type = "f32"});
  engine->truncate_sequence(0, 0);
  std::vector<engine::BatchEntry> batch;
  for (size_t i = 0; i < ids.size(); ++i)
    batch.push_back({ids[i], static_cast<int32_t>(i), 0, true});
  std::vector<float> logits;
  engine->decode(Context::background(), batch, logits);
  const size_t n = static_cast<size_t>(engine->n_vocab());
  std::vector<double> out;
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    const float* row = logits.data() + i * n;
    double mx = -INFINITY, sum = 0.0;
    for (size_t v = 0; v < n; ++v) mx = std::max(mx, static_cast<double>(row[v]));
    for (size_t v = 0; v < n; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
    out.push_back(static_cast<double>(row[ids[i + 1]]) - mx - std::log(sum));
  }
  return out;
}

struct Loaded {
  std::unique_ptr<TextModel> model;
  LogprobModel* lp = nullptr;
  TokenizerModel* tok = nullptr;
};

Loaded load(const std::filesystem::path& path) {
  Loaded l;
  l.model = load_model(
      path, {.backend = "native", .context_length = 256, .threads = 1, .kv_cache_type = "f32"});
  l.lp = dynamic_cast<LogprobModel*>(l.model.get());
  l.tok = dynamic_cast<TokenizerModel*>(l.model.get());
  return l;
}

TEST(NativeLogprob, EqualsFullSequenceLogitSums) {
  INFERENCE_REQUIRE_TESTDATA();
  for (const char* file : {"e2e/e2e-spm-mistral-Q4_K_M.gguf", "e2e/e2e-bpe-gpt2-Q8_0.gguf"}) {
    const auto path = test::testdata_dir() / "models" / file;
    auto m = load(path);
    ASSERT_NE(m.lp, nullptr);
    const std::string context = "The capital of France is";
    const std::vector<std::string> conts = {" Paris, of course.", " a city", " Paris"};
    std::vector<ScoreRequest> requests;
    for (const auto& c : conts) requests.push_back({context, c});
    const auto scores = m.lp->score_continuations(Context::background(), requests);
    ASSERT_EQ(scores.size(), conts.size());
    for (size_t r = 0; r < conts.size(); ++r) {
      ASSERT_TRUE(scores[r].status.ok()) << scores[r].status.to_string();
      const auto head = m.tok->encode(context);
      const auto full = m.tok->encode(context + conts[r]);
      ASSERT_GT(full.size(), head.size());
      const auto ref = reference_logprobs(path, full);
      ASSERT_EQ(scores[r].tokens.size(), full.size() - head.size()) << file;
      double sum = 0.0;
      for (size_t i = head.size(); i < full.size(); ++i) {
        EXPECT_EQ(scores[r].tokens[i - head.size()], full[i]);
        EXPECT_NEAR(scores[r].logprobs[i - head.size()], ref[i - 1], 2e-3) << file << " " << i;
        sum += ref[i - 1];
      }
      EXPECT_NEAR(scores[r].total, sum, 5e-3) << file;
    }
  }
}

TEST(NativeLogprob, MatchesGoldenTop20) {
  INFERENCE_REQUIRE_TESTDATA();
  // The e2e goldens (llama.cpp): per text prompt the top-20 [id, logprob] after it. Each entry
  // whose token text re-tokenises to exactly that one id after the prompt is scored as a
  // one-token continuation and must match within the quantized-model tolerance (README: 0.7).
  const auto dir = test::testdata_dir() / "models" / "e2e";
  int checked = 0;
  for (const char* name : {"e2e-spm-mistral-Q4_K_M", "e2e-bpe-gpt2-Q8_0"}) {
    const auto golden =
        nlohmann::json::parse(test::read_file(dir / (std::string(name) + ".golden.json")));
    auto m = load(dir / (std::string(name) + ".gguf"));
    for (const auto& c : golden["text_prompts"]) {
      const std::string prompt = c["prompt"];
      const auto head = m.tok->encode(prompt);
      if (head != c["tokens"].get<std::vector<int32_t>>()) continue;
      std::vector<ScoreRequest> requests;
      std::vector<std::pair<int32_t, double>> expected;
      for (const auto& e : c["top_last"]) {
        const auto id = e[0].get<int32_t>();
        const std::string piece = m.tok->decode(std::vector<int32_t>{id});
        auto full = m.tok->encode(prompt + piece);
        if (full.size() != head.size() + 1 || full.back() != id) continue;
        requests.push_back({prompt, piece});
        expected.emplace_back(id, e[1].get<double>());
      }
      const auto s = m.lp->score_continuations(Context::background(), requests);
      for (size_t i = 0; i < s.size(); ++i) {
        ASSERT_TRUE(s[i].status.ok()) << s[i].status.to_string();
        ASSERT_EQ(s[i].tokens, std::vector<int32_t>{expected[i].first});
        EXPECT_NEAR(s[i].logprobs[0], expected[i].second, 0.7)
            << name << " id " << expected[i].first;
        ++checked;
      }
      // The golden's argmax is the greedy token: is_greedy holds for it.
      if (!s.empty() && expected[0].first == c["top_last"][0][0].get<int32_t>()) {
        EXPECT_TRUE(s[0].greedy);
      }
    }
  }
  EXPECT_GE(checked, 10) << "too few golden entries re-tokenised cleanly";
}

TEST(NativeLogprob, ChoiceAndPerplexity) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto path = model_path("e2e", "e2e-bpe-gpt2-Q8_0.gguf");
  auto m = load(path);
  const std::string q = "Question: which is a colour?\nAnswer:";
  const std::vector<std::string> choices = {"red", "table", "seventeen"};
  const auto r = score_choices(*m.lp, Context::background(), q, choices);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.logliks.size(), 3u);
  // Predictions are the argmaxes of the sums and of the length-normalised sums.
  int best = 0, best_norm = 0;
  for (int i = 1; i < 3; ++i) {
    if (r.logliks[i] > r.logliks[best]) best = i;
    if (r.logliks[i] / r.lengths[i] > r.logliks[best_norm] / r.lengths[best_norm]) best_norm = i;
  }
  EXPECT_EQ(r.pred, best);
  EXPECT_EQ(r.pred_norm, best_norm);
  // Each loglik equals its reference sum.
  for (size_t i = 0; i < choices.size(); ++i) {
    const auto head = m.tok->encode(q);
    const auto full = m.tok->encode(q + choice_continuation(q, choices[i]));
    const auto ref = reference_logprobs(path, full);
    double sum = 0.0;
    for (size_t k = head.size(); k < full.size(); ++k) sum += ref[k - 1];
    EXPECT_NEAR(r.logliks[i], sum, 5e-3);
  }
  const auto j = to_json(r, 0);
  EXPECT_EQ(j["acc"], r.pred == 0 ? 1 : 0);

  // Perplexity: a window covering the text equals exp(mean NLL of the whole sequence);
  // a small sliding window still scores every token once.
  const std::string text =
      "The quick brown fox jumps over the lazy dog. It was a sunny day and "
      "the children played in the park until the evening came.";
  const auto whole = perplexity(*m.lp, m.tok, Context::background(), text, 256);
  ASSERT_TRUE(whole.error.empty()) << whole.error;
  const auto ids = m.tok->encode(text, false);
  const auto full = m.tok->encode(text, true);
  const auto ref = reference_logprobs(path, full);
  double nll = 0.0;
  const size_t first = full.size() - ids.size();  // BOS, if the model adds one
  size_t counted = 0;
  for (size_t k = std::max<size_t>(first, 1); k < full.size(); ++k, ++counted) nll -= ref[k - 1];
  EXPECT_EQ(whole.tokens, static_cast<int64_t>(counted));
  EXPECT_NEAR(whole.nll, nll, 5e-3);
  const auto windowed = perplexity(*m.lp, m.tok, Context::background(), text, 12);
  ASSERT_TRUE(windowed.error.empty()) << windowed.error;
  EXPECT_NEAR(static_cast<double>(windowed.tokens), static_cast<double>(counted), 2.0);
  EXPECT_GT(windowed.perplexity(), 1.0);
}

TEST(NativeLogprob, PerRequestErrorsAndCancellation) {
  INFERENCE_REQUIRE_TESTDATA();
  auto m = load(model_path("e2e", "e2e-bpe-gpt2-Q8_0.gguf"));
  std::string huge;
  for (int i = 0; i < 400; ++i) huge += " word";
  const auto s = m.lp->score_continuations(
      Context::background(), std::vector<ScoreRequest>{{"Hi", huge}, {"Hi", " there"}, {"Hi", ""}});
  EXPECT_EQ(s[0].status.code, ErrorCode::invalid_argument);  // longer than the context
  EXPECT_TRUE(s[1].status.ok());
  EXPECT_EQ(s[1].tokens.size(), 1u);
  EXPECT_TRUE(s[2].status.ok());
  EXPECT_TRUE(s[2].tokens.empty());
  auto ctx = Context::background().with_cancel();
  ctx.cancel();
  const auto c = m.lp->score_continuations(ctx, std::vector<ScoreRequest>{{"Hi", " there"}});
  EXPECT_EQ(c[0].status.code, ErrorCode::cancelled);
}

}  // namespace
}  // namespace inference::ml
