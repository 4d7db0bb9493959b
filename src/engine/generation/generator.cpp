#include "engine/generation/generator.hpp"

#include <algorithm>
#include <new>

#include "engine/generation/prefill.hpp"

namespace inference::generation {
namespace {

using Clock = std::chrono::steady_clock;

double per_second(int64_t count, std::chrono::nanoseconds duration) {
  if (duration.count() <= 0) return 0.0;
  return static_cast<double>(count) * 1e9 / static_cast<double>(duration.count());
}

}  // namespace

Generator::Generator(std::shared_ptr<SharedEngine> shared, SlotLease slot,
                     std::vector<int32_t> prompt, const GenerateConfig& config, Context ctx)
    : shared_(std::move(shared)),
      slot_(std::move(slot)),
      prompt_(std::move(prompt)),
      config_(config),
      ctx_(std::move(ctx)),
      sampler_(config, shared_->open_engine().n_vocab()),
      logprobs_(config.logprobs > 0 ? shared_->open_engine().n_vocab() : 0),
      stop_(config.stop) {
  check_prompt(shared_->open_engine(), prompt_);
  sampler_.reset(prompt_);
  metrics_.prompt_tokens = static_cast<int64_t>(prompt_.size());
}

Generator::~Generator() {
  std::lock_guard lock(shared_->mutex);
  if (!finished_) finish({});  // the consumer stopped early: a normal end
  slot_.release_locked();
}

void Generator::finish(const Status& status, FinishReason reason) {
  finished_ = true;
  status_ = status;
  if (status.code == ErrorCode::cancelled) reason = FinishReason::cancelled;
  else if (status.code == ErrorCode::deadline_exceeded) reason = FinishReason::deadline;
  else if (!status.ok()) reason = FinishReason::error;
  metrics_.prefill_tokens_per_second =
      per_second(metrics_.prompt_tokens, metrics_.prefill_duration);
  metrics_.decode_tokens_per_second =
      per_second(metrics_.generated_tokens, metrics_.decode_duration);
  metrics_.finish_reason = reason;
  shared_->record(metrics_, status_);
  metrics_ = shared_->last_metrics;  // with the memory figures filled in
}

bool Generator::next(Token& out) {
  std::lock_guard lock(shared_->mutex);
  if (finished_) return false;
  if (!shared_->engine) {
    finish({ErrorCode::unavailable, "the model was closed while a stream was open"});
    return false;
  }
  engine::Engine& engine = *shared_->engine;
  try {
    if (Status s = ctx_.status(); !s.ok()) {
      finish(s);
      return false;
    }
    if (!prefilled_) {
      const auto start = Clock::now();
      prefill_sequence(engine, ctx_, slot_.seq(), prompt_, logits_);
      metrics_.prefill_duration = Clock::now() - start;
      prefilled_ = true;
      const bool produced = step(engine, out);
      metrics_.time_to_first_token = Clock::now() - created_;
      return produced;
    }
    const auto start = Clock::now();
    decode_pending(engine);
    const bool produced = step(engine, out);
    metrics_.decode_duration += Clock::now() - start;
    return produced;
  } catch (const Error& e) {
    finish(e.status());
  } catch (const std::bad_alloc&) {
    finish({ErrorCode::out_of_memory, "out of memory while generating"});
  } catch (const std::exception& e) {
    finish({ErrorCode::backend, e.what()});
  }
  return false;
}

void Generator::decode_pending(engine::Engine& engine) {
  const int32_t pos = engine.sequence_length(slot_.seq());
  const engine::BatchEntry entry{pending_, pos, slot_.seq(), true};
  try {
    engine.decode(ctx_, std::span(&entry, 1), logits_);
  } catch (...) {
    engine.truncate_sequence(slot_.seq(), pos);  // keep the cache consistent for reuse
    throw;
  }
}

bool Generator::is_stop_token(const engine::Engine& engine, int32_t id) const {
  if (!config_.ignore_eos && engine.tokenizer().is_end_of_generation(id)) return true;
  return std::find(config_.stop_tokens.begin(), config_.stop_tokens.end(), id) !=
         config_.stop_tokens.end();
}

void Generator::fill_logprobs(const engine::Engine& engine, int32_t id, Token& out) {
  if (config_.logprobs <= 0) return;
  logprobs_.set_row(logits_);
  out.logprob = logprobs_.logprob(id);
  logprobs_.top(config_.logprobs, top_);
  out.top_logprobs.reserve(top_.size());
  for (const auto& alt : top_)
    out.top_logprobs.push_back({alt.id, engine.tokenizer().token_to_piece(alt.id), alt.logprob});
}

bool Generator::step(engine::Engine& engine, Token& out) {
  const int32_t id = sampler_.sample(logits_);
  if (is_stop_token(engine, id)) {
    std::string rest = stop_.push(utf8_.flush());
    rest += stop_.flush();
    const bool eog = !config_.ignore_eos && engine.tokenizer().is_end_of_generation(id);
    finish({}, eog ? FinishReason::eos : FinishReason::stop_token);
    if (rest.empty()) return false;
    out.id = -1;  // held-back text only; the end token itself is not emitted
    out.text = std::move(rest);
    return true;
  }
  sampler_.accept(id);
  ++metrics_.generated_tokens;
  out.id = id;
  out.text = stop_.push(utf8_.push(engine.tokenizer().token_to_piece(id)));
  fill_logprobs(engine, id, out);
  if (stop_.stopped()) {
    finish({}, FinishReason::stop);
    return !out.text.empty();
  }
  const bool max_reached =
      config_.max_tokens > 0 && metrics_.generated_tokens >= config_.max_tokens;
  // The token just sampled needs one more cache cell before anything can follow it.
  const bool context_full = engine.sequence_length(slot_.seq()) + 1 >= engine.context_length();
  if (max_reached || context_full) {
    out.text += stop_.push(utf8_.flush());
    out.text += stop_.flush();
    finish({}, FinishReason::length);
    return true;
  }
  pending_ = id;
  return true;
}

}  // namespace inference::generation
