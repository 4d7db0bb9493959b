#include "engine/generation/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace inference::generation {
namespace {

// A strict total order on candidates (higher logit first, then lower id), so every threshold
// and every sorted prefix is the same whatever algorithm the standard library uses.
struct Better {
  template <typename C>
  bool operator()(const C& a, const C& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};

Status invalid(const std::string& message) {
  return {ErrorCode::invalid_argument, message};
}

}  // namespace

Status validate_generate_config(const GenerateConfig& c, int32_t n_vocab) {
  if (!std::isfinite(c.temperature) || c.temperature < 0.0f)
    return invalid("temperature must be a finite number >= 0 (0 = greedy), got " +
                   std::to_string(c.temperature));
  if (c.top_k < 0) return invalid("top_k must be >= 0 (0 = off), got " + std::to_string(c.top_k));
  if (!(c.top_p > 0.0f && c.top_p <= 1.0f))
    return invalid("top_p must be in (0, 1] (1 = off), got " + std::to_string(c.top_p));
  if (!(c.min_p >= 0.0f && c.min_p <= 1.0f))
    return invalid("min_p must be in [0, 1] (0 = off), got " + std::to_string(c.min_p));
  if (!std::isfinite(c.repeat_penalty) || c.repeat_penalty <= 0.0f)
    return invalid("repeat_penalty must be a finite number > 0 (1 = off), got " +
                   std::to_string(c.repeat_penalty));
  if (c.repeat_last_n < -1)
    return invalid("repeat_last_n must be >= -1 (-1 = whole history, 0 = off), got " +
                   std::to_string(c.repeat_last_n));
  if (!std::isfinite(c.presence_penalty))
    return invalid("presence_penalty must be a finite number");
  if (!std::isfinite(c.frequency_penalty))
    return invalid("frequency_penalty must be a finite number");
  if (c.logprobs < 0 || c.logprobs > n_vocab)
    return invalid("logprobs must be in [0, " + std::to_string(n_vocab) + "], got " +
                   std::to_string(c.logprobs));
  for (int32_t id : c.stop_tokens) {
    if (id < 0 || id >= n_vocab)
      return invalid("stop_tokens: id " + std::to_string(id) + " is outside the vocabulary [0, " +
                     std::to_string(n_vocab) + ")");
  }
  for (const auto& s : c.stop) {
    if (s.empty()) return invalid("stop: stop strings must not be empty");
  }
  return {};
}

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) return 0;
  // Greedy decoding pays this once per token over the whole vocabulary (128k–262k logits): a
  // scalar loop carries its best value from compare to compare, ~100 µs per token. Per-lane
  // maxima the compiler vectorises, then the first element equal to the largest: ties keep the
  // lowest id, NaN never wins (a comparison with NaN is false).
  constexpr size_t kLanes = 16;
  float lane_max[kLanes];
  for (float& m : lane_max) m = -std::numeric_limits<float>::infinity();
  const size_t whole = logits.size() / kLanes * kLanes;
  for (size_t i = 0; i < whole; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      lane_max[j] = logits[i + j] > lane_max[j] ? logits[i + j] : lane_max[j];
    }
  }
  float best_value = -std::numeric_limits<float>::infinity();
  for (float m : lane_max) best_value = m > best_value ? m : best_value;
  for (size_t i = whole; i < logits.size(); ++i) {
    best_value = logits[i] > best_value ? logits[i] : best_value;
  }
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] == best_value) return static_cast<int32_t>(i);
  }
  return 0;  // every logit NaN or −inf
}

Sampler::Sampler(const GenerateConfig& config, int32_t n_vocab)
    : config_(config), n_vocab_(n_vocab), rng_(config.seed) {
  if (n_vocab <= 0) throw Error(ErrorCode::invalid_argument, "sampler: vocabulary is empty");
  if (Status s = validate_generate_config(config, n_vocab); !s.ok()) throw Error(s);
  const auto n = static_cast<size_t>(n_vocab);
  generated_count_.assign(n, 0);
  seen_stamp_.assign(n, 0);
  work_.resize(n);
  candidates_.resize(n);
  probs_.resize(n);
  if (config.max_tokens > 0) generated_ids_.reserve(static_cast<size_t>(config.max_tokens));
}

void Sampler::reset(std::span<const int32_t> prompt) {
  history_.assign(prompt.begin(), prompt.end());
  if (config_.max_tokens > 0) history_.reserve(prompt.size() + config_.max_tokens);
  for (int32_t id : generated_ids_) generated_count_[static_cast<size_t>(id)] = 0;
  generated_ids_.clear();
  rng_.reseed(config_.seed);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_) return;
  history_.push_back(token);
  if (generated_count_[static_cast<size_t>(token)]++ == 0) generated_ids_.push_back(token);
}

bool Sampler::has_penalties() const noexcept {
  return (config_.repeat_penalty != 1.0f && config_.repeat_last_n != 0) ||
         config_.presence_penalty != 0.0f || config_.frequency_penalty != 0.0f;
}

void Sampler::apply_penalties(std::vector<float>& logits) {
  if (config_.repeat_penalty != 1.0f && config_.repeat_last_n != 0) {
    const size_t window =
        config_.repeat_last_n < 0
            ? history_.size()
            : std::min(history_.size(), static_cast<size_t>(config_.repeat_last_n));
    if (++stamp_ == 0) {  // wrapped: old stamps could collide, start afresh
      std::fill(seen_stamp_.begin(), seen_stamp_.end(), 0u);
      stamp_ = 1;
    }
    for (size_t i = history_.size() - window; i < history_.size(); ++i) {
      const int32_t id = history_[i];
      if (id < 0 || id >= n_vocab_) continue;
      auto& seen = seen_stamp_[static_cast<size_t>(id)];
      if (seen == stamp_) continue;  // each distinct token is penalised once
      seen = stamp_;
      float& l = logits[static_cast<size_t>(id)];
      l = l <= 0.0f ? l * config_.repeat_penalty : l / config_.repeat_penalty;
    }
  }
  if (config_.presence_penalty != 0.0f || config_.frequency_penalty != 0.0f) {
    for (int32_t id : generated_ids_) {
      const int32_t count = generated_count_[static_cast<size_t>(id)];
      logits[static_cast<size_t>(id)] -=
          static_cast<float>(count) * config_.frequency_penalty + config_.presence_penalty;
    }
  }
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (logits.size() != static_cast<size_t>(n_vocab_))
    throw Error(ErrorCode::invalid_argument,
                "sampler: logits row has " + std::to_string(logits.size()) +
                    " entries, vocabulary has " + std::to_string(n_vocab_));
  std::span<const float> row = logits;
  if (has_penalties()) {
    std::copy(logits.begin(), logits.end(), work_.begin());
    apply_penalties(work_);
    row = work_;
  }
  if (greedy()) return argmax(row);
  if (row.data() != work_.data()) std::copy(row.begin(), row.end(), work_.begin());

  // The cut-off candidate: everything at least as good as `cut` is kept (initially: all).
  Candidate cut{n_vocab_, -std::numeric_limits<float>::infinity()};
  const auto n = static_cast<size_t>(n_vocab_);
  size_t kept = n;
  const bool top_k_on = config_.top_k > 0 && static_cast<size_t>(config_.top_k) < n;
  const bool top_p_on = config_.top_p < 1.0f;
  if (top_k_on || top_p_on) {
    for (size_t i = 0; i < n; ++i) candidates_[i] = {static_cast<int32_t>(i), work_[i]};
    kept = top_k_top_p(n);
    cut = candidates_[kept - 1];
  }
  const Better better;
  const int32_t best = argmax(work_);
  const float max_logit = work_[static_cast<size_t>(best)];
  // min-p keeps p >= min_p · p_max, i.e. logit >= max + ln(min_p); renormalisation by the
  // earlier filters does not change ratios, so the bound is the same on the kept set.
  const float min_logit = config_.min_p > 0.0f ? max_logit + std::log(config_.min_p)
                                               : -std::numeric_limits<float>::infinity();
  // Walk ids in order so the draw does not depend on any sort's internal order.
  double total = 0.0;
  const double inv_temp = 1.0 / static_cast<double>(config_.temperature);
  for (size_t i = 0; i < n; ++i) {
    const Candidate c{static_cast<int32_t>(i), work_[i]};
    const bool keep = !better(cut, c) && c.logit >= min_logit && std::isfinite(c.logit);
    const double w = keep ? std::exp((static_cast<double>(c.logit) - max_logit) * inv_temp) : 0.0;
    probs_[i] = static_cast<float>(w);
    total += w;
  }
  if (!(total > 0.0)) return best;
  const double target = rng_.uniform() * total;
  double acc = 0.0;
  int32_t last = best;
  for (size_t i = 0; i < n; ++i) {
    if (probs_[i] <= 0.0f) continue;
    acc += probs_[i];
    last = static_cast<int32_t>(i);
    if (acc > target) return last;
  }
  return last;  // rounding left target just above the running sum: take the last kept token
}

size_t Sampler::top_k_top_p(size_t n) {
  const Better better;
  auto begin = candidates_.begin();
  size_t m = n;
  if (config_.top_k > 0 && static_cast<size_t>(config_.top_k) < n) {
    m = static_cast<size_t>(config_.top_k);
    std::nth_element(begin, begin + static_cast<std::ptrdiff_t>(m - 1),
                     begin + static_cast<std::ptrdiff_t>(n), better);
  }
  if (config_.top_p >= 1.0f) return m;
  // Softmax mass of the remaining set (at temperature 1, as the chain order says).
  float max_logit = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < m; ++i) max_logit = std::max(max_logit, candidates_[i].logit);
  double total = 0.0;
  for (size_t i = 0; i < m; ++i)
    total += std::exp(static_cast<double>(candidates_[i].logit) - max_logit);
  // Sort a growing prefix until it holds top_p of the mass: usually a few dozen tokens, so a
  // full sort of a 100k+ vocabulary is rarely needed.
  const double need = static_cast<double>(config_.top_p) * total;
  double cum = 0.0;
  size_t sorted = 0;
  size_t chunk = std::min<size_t>(m, 64);
  while (true) {
    std::partial_sort(begin + static_cast<std::ptrdiff_t>(sorted),
                      begin + static_cast<std::ptrdiff_t>(chunk),
                      begin + static_cast<std::ptrdiff_t>(m), better);
    for (; sorted < chunk; ++sorted) {
      cum += std::exp(static_cast<double>(candidates_[sorted].logit) - max_logit);
      if (cum >= need) return sorted + 1;  // keep the token that reaches p (llama.cpp rule)
    }
    if (chunk == m) return m;
    chunk = std::min(m, chunk * 8);
  }
}

}  // namespace inference::generation
