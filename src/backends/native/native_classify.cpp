// classify(): one prefill per prompt and the next token after it. Prompts run on separate
// sequences of shared decode batches (as many at once as there are free slots), which is what
// makes classifying many short texts fast.
#include <algorithm>
#include <optional>

#include "backends/native/native_model.hpp"
#include "engine/generation/logprobs.hpp"
#include "engine/generation/prefill.hpp"
#include "engine/generation/sampler.hpp"
#include "inference/error.hpp"

namespace inference::native {
namespace {

struct RowHandler {
  engine::Engine& engine;
  const GenerateConfig& config;
  std::optional<generation::Sampler> sampler;
  generation::LogprobCalculator logprobs;
  std::vector<generation::IdLogprob> top;

  RowHandler(engine::Engine& e, const GenerateConfig& c)
      : engine(e), config(c), logprobs(c.logprobs > 0 ? e.n_vocab() : 0) {
    if (c.temperature > 0.0f) sampler.emplace(c, e.n_vocab());
  }

  void handle(std::span<const int32_t> prompt, std::span<const float> row, ClassifyResult& out) {
    int32_t id;
    if (sampler) {
      sampler->reset(prompt);  // each prompt draws as if it were alone: same seed, same token
      id = sampler->sample(row);
    } else {
      id = generation::argmax(row);
    }
    out.token.id = id;
    out.token.text = engine.tokenizer().token_to_piece(id);
    if (config.logprobs > 0) {
      logprobs.set_row(row);
      out.token.logprob = logprobs.logprob(id);
      logprobs.top(config.logprobs, top);
      for (const auto& alt : top)
        out.token.top_logprobs.push_back(
            {alt.id, engine.tokenizer().token_to_piece(alt.id), alt.logprob});
    }
    if (config.return_logits) out.logits.assign(row.begin(), row.end());
  }
};

}  // namespace

std::vector<ClassifyResult> classify_batched(engine::Engine& engine, const Context& ctx,
                                             std::span<const std::vector<int32_t>> prompts,
                                             std::span<const int32_t> seqs,
                                             const GenerateConfig& config) {
  std::vector<ClassifyResult> results(prompts.size());
  std::vector<size_t> valid;
  for (size_t i = 0; i < prompts.size(); ++i) {
    try {
      generation::check_prompt(engine, prompts[i]);
      valid.push_back(i);
    } catch (const Error& e) {
      results[i].status = e.status();
    }
  }
  RowHandler handler(engine, config);
  const auto n_vocab = static_cast<size_t>(engine.n_vocab());
  std::vector<engine::BatchEntry> batch;
  std::vector<size_t> row_owner;  // prompt index of each logits row of the pending batch
  std::vector<float> logits;

  for (size_t group = 0; group < valid.size(); group += seqs.size()) {
    const size_t group_end = std::min(valid.size(), group + seqs.size());
    try {
      if (Status s = ctx.status(); !s.ok()) throw Error(s);
      auto flush = [&] {
        if (batch.empty()) return;
        engine.decode(ctx, batch, logits);
        for (size_t r = 0; r < row_owner.size(); ++r) {
          const size_t p = row_owner[r];
          handler.handle(prompts[p], std::span(logits).subspan(r * n_vocab, n_vocab), results[p]);
        }
        batch.clear();
        row_owner.clear();
      };
      for (size_t g = group; g < group_end; ++g) {
        const size_t p = valid[g];
        const int32_t seq = seqs[g - group];
        const auto& tokens = prompts[p];
        // Reuse what the slot already holds (few-shot prompts share long prefixes).
        size_t reused = generation::common_prefix(engine.sequence_tokens(seq), tokens);
        reused = std::min(reused, tokens.size() - 1);
        engine.truncate_sequence(seq, static_cast<int32_t>(reused));
        reused = static_cast<size_t>(engine.sequence_length(seq));  // sliding-window models
        for (size_t i = reused; i < tokens.size(); ++i) {
          const bool last = i + 1 == tokens.size();
          batch.push_back({tokens[i], static_cast<int32_t>(i), seq, last});
          if (last) row_owner.push_back(p);
          if (batch.size() >= generation::kPrefillChunk) flush();
        }
      }
      flush();
    } catch (const Error& e) {
      // Cancellation or an engine failure: this and every later prompt report it; the slots
      // are cleared so no half-evaluated prompt is reused.
      for (size_t g = group; g < valid.size(); ++g) {
        auto& r = results[valid[g]];
        if (r.token.id < 0) r.status = e.status();
      }
      for (int32_t seq : seqs) engine.truncate_sequence(seq, 0);
      batch.clear();
      row_owner.clear();
      break;
    }
  }
  return results;
}

}  // namespace inference::native
