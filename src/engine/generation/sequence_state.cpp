#include "engine/generation/sequence_state.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/generation/prefill.hpp"
#include "inference/error.hpp"

namespace inference::generation {
namespace {

double per_second(int64_t count, std::chrono::nanoseconds duration) {
  if (duration.count() <= 0) return 0.0;
  return static_cast<double>(count) * 1e9 / static_cast<double>(duration.count());
}

bool is_cancellation(FinishReason reason) {
  return reason == FinishReason::cancelled || reason == FinishReason::deadline ||
         reason == FinishReason::error;
}

}  // namespace

Status validate_logit_bias(const GenerateConfig& config, int32_t n_vocab) {
  for (const auto& b : config.logit_bias) {
    if (b.id < 0 || b.id >= n_vocab)
      return {ErrorCode::invalid_argument, "logit_bias: token id " + std::to_string(b.id) +
                                               " is outside the vocabulary [0, " +
                                               std::to_string(n_vocab) + ")"};
    if (!std::isfinite(b.bias) && !(std::isinf(b.bias) && b.bias < 0))
      return {ErrorCode::invalid_argument,
              "logit_bias: the bias of token id " + std::to_string(b.id) + " is not a number"};
  }
  return {};
}

SequenceState::SequenceState(std::vector<int32_t> prompt, const GenerateConfig& config, Context ctx,
                             SequenceMode mode, int32_t n_vocab, int32_t context_length,
                             std::unique_ptr<TokenConstraint> constraint)
    : prompt_(std::move(prompt)),
      config_(config),
      ctx_(std::move(ctx)),
      mode_(mode),
      context_length_(context_length),
      sampler_(config, n_vocab),
      logprobs_(config.logprobs > 0 ? n_vocab : 0),
      constraint_(std::move(constraint)),
      stop_(config.stop),
      submitted_(Clock::now()) {
  check_prompt(prompt_, n_vocab, context_length);
  if (Status s = validate_logit_bias(config, n_vocab); !s.ok()) throw Error(s);
  if (!config.logit_bias.empty() || constraint_) work_.resize(static_cast<size_t>(n_vocab));
  sampler_.reset(prompt_);
  metrics_.prompt_tokens = static_cast<int64_t>(prompt_.size());
}

void SequenceState::start(int32_t seq, size_t cached) {
  slot = seq;
  prefilled = cached;
  phase = SequencePhase::prefilling;
  metrics_.cached_prompt_tokens = static_cast<int64_t>(cached);
}

void SequenceState::finish(FinishReason reason, const Status& status) {
  if (phase == SequencePhase::finished) return;
  phase = SequencePhase::finished;
  status_ = status;
  metrics_.finish_reason = reason;
  if (is_cancellation(reason)) {
    output_.clear();  // nobody wants tokens of a cancelled or failed stream
    if (mode_ == SequenceMode::classify && !status.ok()) classify_.status = status;
  }
}

bool SequenceState::pop(Token& out) {
  if (output_.empty()) return false;
  out = std::move(output_.front());
  output_.pop_front();
  return true;
}

GenerateMetrics SequenceState::metrics() const {
  GenerateMetrics m = metrics_;
  m.prefill_tokens_per_second =
      per_second(m.prompt_tokens - m.cached_prompt_tokens, m.prefill_duration);
  m.decode_tokens_per_second = per_second(m.generated_tokens, m.decode_duration);
  return m;
}

std::span<const float> SequenceState::shaped(std::span<const float> row) {
  if (work_.empty()) return row;
  std::copy(row.begin(), row.end(), work_.begin());
  for (const auto& b : config_.logit_bias) work_[static_cast<size_t>(b.id)] += b.bias;
  if (constraint_) constraint_->mask(work_);
  return work_;
}

bool SequenceState::is_end_token(const tokenizer::Tokenizer& tokenizer, int32_t id,
                                 FinishReason& why) const {
  if (!config_.ignore_eos && tokenizer.is_end_of_generation(id)) {
    why = FinishReason::eos;
    return true;
  }
  if (std::find(config_.stop_tokens.begin(), config_.stop_tokens.end(), id) !=
      config_.stop_tokens.end()) {
    why = FinishReason::stop_token;
    return true;
  }
  return false;
}

void SequenceState::fill_logprobs(std::span<const float> row, const tokenizer::Tokenizer& tokenizer,
                                  int32_t id, Token& out) {
  if (config_.logprobs <= 0) return;
  logprobs_.set_row(row);  // the raw row: logprobs as the model gives them (OpenAI semantics)
  out.logprob = logprobs_.logprob(id);
  logprobs_.top(config_.logprobs, top_);
  out.top_logprobs.reserve(top_.size());
  for (const auto& alt : top_)
    out.top_logprobs.push_back({alt.id, tokenizer.token_to_piece(alt.id), alt.logprob});
}

void SequenceState::emit(Token token) {
  if (first_token_) {
    first_token_ = false;
    metrics_.time_to_first_token = Clock::now() - submitted_;
  }
  output_.push_back(std::move(token));
}

std::string SequenceState::flush_text() {
  std::string rest = stop_.push(utf8_.flush());
  rest += stop_.flush();
  return rest;
}

void SequenceState::classify_row(std::span<const float> row,
                                 const tokenizer::Tokenizer& tokenizer) {
  const auto r = shaped(row);
  // Greedy is the plain argmax of the row (penalties need a history a classifier has not got).
  const int32_t id = sampler_.greedy() ? argmax(r) : sampler_.sample(r);
  classify_.token.id = id;
  classify_.token.text = tokenizer.token_to_piece(id);
  fill_logprobs(row, tokenizer, id, classify_.token);
  if (config_.return_logits) classify_.logits.assign(row.begin(), row.end());
  metrics_.generated_tokens = 1;
  metrics_.time_to_first_token = Clock::now() - submitted_;
  finish(FinishReason::length, {});
}

void SequenceState::on_logits(std::span<const float> row, int32_t cache_len,
                              const tokenizer::Tokenizer& tokenizer) {
  if (mode_ == SequenceMode::classify) return classify_row(row, tokenizer);
  if (constraint_ && constraint_->exhausted()) {
    if (std::string rest = flush_text(); !rest.empty()) emit({.id = -1, .text = std::move(rest)});
    return finish(FinishReason::eos, {});
  }
  const int32_t id = sampler_.sample(shaped(row));
  FinishReason why = FinishReason::none;
  if (is_end_token(tokenizer, id, why)) {
    if (std::string rest = flush_text(); !rest.empty()) emit({.id = -1, .text = std::move(rest)});
    return finish(why, {});
  }
  if (constraint_) constraint_->accept(id);
  sampler_.accept(id);
  ++metrics_.generated_tokens;
  Token out;
  out.id = id;
  out.text = stop_.push(utf8_.push(tokenizer.token_to_piece(id)));
  fill_logprobs(row, tokenizer, id, out);
  if (stop_.stopped()) {
    if (!out.text.empty()) emit(std::move(out));
    metrics_.stop_string = stop_.matched();
    return finish(FinishReason::stop, {});
  }
  const bool max_reached =
      config_.max_tokens > 0 && metrics_.generated_tokens >= config_.max_tokens;
  // The token just sampled needs one more cache cell before anything can follow it.
  const bool context_full = cache_len + 1 >= context_length_;
  const bool constraint_done = constraint_ && constraint_->exhausted();
  if (max_reached || context_full || constraint_done) {
    out.text += flush_text();
    emit(std::move(out));
    return finish(constraint_done && !max_reached ? FinishReason::eos : FinishReason::length, {});
  }
  emit(std::move(out));
  pending_ = id;
}

}  // namespace inference::generation
