// End to end on the e2e models: our tokenizer, chat template, forward pass, sampler and
// streaming against llama.cpp's goldens. Quantised weights: tolerance 0.7 (testdata README,
// "quantized, activations rounded like llama.cpp").
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "backends/native/chat_prompt.hpp"
#include "e2e_golden.hpp"
#include "engine/engine.hpp"
#include "engine/generation/sampler.hpp"
#include "inference/capabilities.hpp"
#include "inference/inference.hpp"
#include "support/testdata.hpp"

namespace inference {
namespace {

constexpr float kTolerance = 0.7f;

std::string label(const test::E2eGolden& g, const test::E2ePrompt& p) {
  return g.model.filename().string() + (p.chat ? " chat " + p.rendered : " text " + p.prompt);
}

std::unique_ptr<TextModel> load(const test::E2eGolden& g) {
  // The reference ran with an F32 KV cache and n_ctx 512. One thread: tests share the machine
  // with other work, and a spinning pool on an oversubscribed CPU only slows them down.
  return load_model(g.model, {.backend = "native",
                              .context_length = g.n_ctx,
                              .parallel_slots = 2,
                              .threads = 1,
                              .kv_cache_type = "f32"});
}

std::vector<float> log_softmax(const std::vector<float>& logits) {
  double max = -INFINITY, sum = 0;
  for (float l : logits) max = std::max<double>(max, l);
  for (float l : logits) sum += std::exp(l - max);
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    out[i] = static_cast<float>(logits[i] - max - std::log(sum));
  return out;
}

class E2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::testdata_dir() / "models" / "e2e"))
      GTEST_SKIP() << "e2e test data not found under " << test::testdata_dir();
    goldens_ = test::load_e2e_goldens();
    ASSERT_FALSE(goldens_.empty());
  }
  std::vector<test::E2eGolden> goldens_;
};

TEST_F(E2e, PromptTextEncodesToTheGoldenIds) {
  for (const auto& g : goldens_) {
    auto model = load(g);
    auto* tok = dynamic_cast<TokenizerModel*>(model.get());
    ASSERT_NE(tok, nullptr);
    for (const auto& p : g.prompts) {
      const std::string text = p.chat ? p.rendered : p.prompt;
      EXPECT_EQ(tok->encode(text, p.add_special, p.parse_special), p.tokens) << label(g, p);
    }
  }
}

TEST_F(E2e, ChatTemplateRendersTheGoldenTextAndIds) {
  for (const auto& g : goldens_) {
    auto model = load(g);
    auto* tok = dynamic_cast<TokenizerModel*>(model.get());
    for (const auto& p : g.prompts) {
      if (!p.chat) continue;
      EXPECT_EQ(tok->apply_chat_template(p.messages, p.add_generation_prompt), p.rendered)
          << label(g, p);
      // chat() must feed exactly the golden ids (BOS once) and continue like the reference.
      auto stream =
          model->chat(Context::background(), p.messages,
                      {.max_tokens = static_cast<int32_t>(p.greedy.size()), .ignore_eos = true});
      std::vector<int32_t> ids;
      for (const Token& t : stream) {
        if (t.id >= 0) ids.push_back(t.id);
      }
      ASSERT_TRUE(stream.err().ok()) << stream.err().message;
      EXPECT_EQ(model->metrics().prompt_tokens, static_cast<int64_t>(p.tokens.size()))
          << label(g, p);
      const size_t n = test::greedy_steps_to_compare(p.greedy_margin, kTolerance);
      ASSERT_GE(ids.size(), n);
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(ids[i], p.greedy[i]) << label(g, p) << " step " << i;
      }
    }
  }
}

TEST_F(E2e, ChatPromptIdsAreTheGoldenIds) {
  for (const auto& g : goldens_) {
    auto engine = engine::Engine::load(g.model, {.context_length = g.n_ctx, .threads = 1});
    const native::ChatPrompt chat(engine->chat_template_source(), engine->info().architecture,
                                  engine->tokenizer());
    for (const auto& p : g.prompts) {
      if (!p.chat) continue;
      const std::string rendered = chat.render(p.messages, p.add_generation_prompt);
      EXPECT_EQ(rendered, p.rendered) << label(g, p);
      EXPECT_EQ(chat.encode(rendered), p.tokens) << label(g, p);
    }
  }
}

TEST_F(E2e, Top20AfterThePromptWithinTolerance) {
  for (const auto& g : goldens_) {
    auto model = load(g);
    auto* direct = dynamic_cast<TokenPromptModel*>(model.get());
    ASSERT_NE(direct, nullptr);
    const auto n_vocab = static_cast<int32_t>(model->info().vocab_size);
    for (const auto& p : g.prompts) {
      // The logprobs of the first step cover the whole vocabulary when asked for all of it.
      auto stream =
          direct->generate_tokens(Context::background(), p.tokens,
                                  {.max_tokens = 1, .logprobs = n_vocab, .ignore_eos = true});
      Token first;
      ASSERT_TRUE(stream.next(first)) << stream.err().message;
      ASSERT_EQ(first.top_logprobs.size(), static_cast<size_t>(n_vocab));
      std::vector<float> ours(static_cast<size_t>(n_vocab));
      for (const auto& alt : first.top_logprobs) ours[static_cast<size_t>(alt.id)] = alt.logprob;
      for (const auto& [id, golden] : p.top_last)
        EXPECT_NEAR(ours[static_cast<size_t>(id)], golden, kTolerance)
            << label(g, p) << " id " << id;
      EXPECT_NEAR(*first.logprob, ours[static_cast<size_t>(first.id)], 1e-6);
    }
  }
}

TEST_F(E2e, ClassifyOfTextPromptsGivesTheGoldenRow) {
  for (const auto& g : goldens_) {
    auto model = load(g);
    std::vector<std::string> texts;
    std::vector<const test::E2ePrompt*> prompts;
    for (const auto& p : g.prompts) {
      if (p.chat) continue;
      texts.push_back(p.prompt);
      prompts.push_back(&p);
    }
    auto rows = model->classify(Context::background(), texts, {.return_logits = true});
    ASSERT_EQ(rows.size(), texts.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      ASSERT_TRUE(rows[i].status.ok()) << rows[i].status.message;
      const auto lp = log_softmax(rows[i].logits);
      for (const auto& [id, golden] : prompts[i]->top_last)
        EXPECT_NEAR(lp[static_cast<size_t>(id)], golden, kTolerance) << label(g, *prompts[i]);
      EXPECT_EQ(rows[i].token.id, generation::argmax(rows[i].logits));
    }
  }
}

TEST_F(E2e, GreedyContinuationMatchesUpToTheFirstCloseCall) {
  for (const auto& g : goldens_) {
    auto model = load(g);
    auto* direct = dynamic_cast<TokenPromptModel*>(model.get());
    for (const auto& p : g.prompts) {
      auto stream = direct->generate_tokens(
          Context::background(), p.tokens,
          {.max_tokens = static_cast<int32_t>(p.greedy.size()), .ignore_eos = true});
      std::vector<int32_t> ids;
      std::string text;
      for (const Token& t : stream) {
        if (t.id >= 0) ids.push_back(t.id);
        text += t.text;
      }
      ASSERT_TRUE(stream.err().ok()) << stream.err().message;
      ASSERT_EQ(ids.size(), p.greedy.size()) << label(g, p);
      const size_t n = test::greedy_steps_to_compare(p.greedy_margin, kTolerance);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(ids[i], p.greedy[i]) << label(g, p) << " step " << i;
      }
      // Identical ids must give byte-identical text (pieces concatenated, as streamed).
      if (ids == p.greedy) {
        EXPECT_EQ(text, p.greedy_text) << label(g, p);
      }
    }
  }
}

TEST_F(E2e, GreedyPiecesConcatenateToTheGoldenBytes) {
  for (const auto& g : goldens_) {
    auto model = load(g);
    auto* tok = dynamic_cast<TokenizerModel*>(model.get());
    for (const auto& p : g.prompts) {
      std::string text;
      for (int32_t id : p.greedy) text += tok->token_text(id);
      EXPECT_EQ(text, p.greedy_text) << label(g, p);
    }
  }
}

TEST_F(E2e, TeacherForcedArgmaxAgreesWhereTheMarginIsClear) {
  // Every greedy step evaluated on the golden's own tokens in one batch: the argmax must be the
  // golden's wherever its top-1 margin exceeds the tolerance.
  for (const auto& g : goldens_) {
    auto engine = engine::Engine::load(
        g.model, {.context_length = g.n_ctx, .threads = 1, .kv_cache_type = "f32"});
    for (const auto& p : g.prompts) {
      std::vector<engine::BatchEntry> batch;
      std::vector<int32_t> all = p.tokens;
      all.insert(all.end(), p.greedy.begin(), p.greedy.end() - 1);
      for (size_t i = 0; i < all.size(); ++i)
        batch.push_back({all[i], static_cast<int32_t>(i), 0, i + 1 >= p.tokens.size()});
      engine->truncate_sequence(0, 0);
      std::vector<float> logits;
      engine->decode(Context::background(), batch, logits);
      const auto n_vocab = static_cast<size_t>(engine->n_vocab());
      ASSERT_EQ(logits.size(), p.greedy.size() * n_vocab);
      for (size_t step = 0; step < p.greedy.size(); ++step) {
        if (p.greedy_margin[step] < kTolerance) continue;
        const auto row = std::span<const float>(logits).subspan(step * n_vocab, n_vocab);
        EXPECT_EQ(generation::argmax(row), p.greedy[step]) << label(g, p) << " step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace inference
