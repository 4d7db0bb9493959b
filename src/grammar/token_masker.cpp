#include "grammar/token_masker.hpp"

#include <algorithm>
#include <limits>

#include "inference/error.hpp"

namespace inference::grammar {
namespace {

constexpr size_t kMaxCachedMasks = 1024;
constexpr size_t kMaxMatcherBytes = size_t{256} << 20;

}  // namespace

TokenMasker::TokenMasker(std::shared_ptr<const Grammar> grammar,
                         std::shared_ptr<const TokenTrie> trie)
    : trie_(std::move(trie)), matcher_(grammar), state_(matcher_.start()) {
  for (int32_t id : trie_->special_tokens()) {
    const std::string& text = trie_->piece(id);
    for (const std::string& lit : grammar->literals) {
      if (lit.find(text) != std::string::npos) {
        specials_.push_back(id);
        break;
      }
    }
  }
  depth_state_.resize(static_cast<size_t>(trie_->max_depth()) + 1);
}

void TokenMasker::compute(std::vector<uint64_t>& bits) {
  bits.assign((static_cast<size_t>(trie_->n_vocab()) + 63) / 64, 0);
  auto set = [&](int32_t id) { bits[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63); };
  const auto& nodes = trie_->nodes();
  const auto& ids = trie_->token_ids();
  depth_state_[0] = state_;
  const size_t n = nodes.size();
  for (size_t i = 0; i < n;) {
    const TokenTrie::Node& node = nodes[i];
    const Matcher::State s = matcher_.advance(depth_state_[node.depth - 1], node.byte);
    if (s == Matcher::kDead) {
      i = node.next;  // no token below this prefix can continue the output
      continue;
    }
    depth_state_[node.depth] = s;
    for (uint32_t t = node.token_begin; t < node.token_end; ++t) set(ids[t]);
    ++i;
  }
  for (int32_t id : specials_)
    if (matcher_.advance(state_, trie_->piece(id)) != Matcher::kDead) set(id);
  if (matcher_.accepts(state_))
    for (int32_t id : trie_->end_tokens()) set(id);
}

const std::vector<uint64_t>& TokenMasker::allowed() {
  if (auto it = cache_.find(state_); it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxCachedMasks) cache_.clear();
  std::vector<uint64_t> bits;
  compute(bits);
  return cache_.emplace(state_, std::move(bits)).first->second;
}

void TokenMasker::mask(std::span<float> logits) {
  const std::vector<uint64_t>& bits = allowed();
  bool any = false;
  for (uint64_t w : bits) any = any || w != 0;
  // All -inf would leave the sampler nothing to pick: say why instead.
  if (!any)
    throw Error(ErrorCode::invalid_argument,
                "constrained decoding: no token of the vocabulary can continue the grammar here");
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const size_t n = logits.size();
  for (size_t w = 0; w * 64 < n; ++w) {
    const uint64_t word = w < bits.size() ? bits[w] : 0;
    if (word == ~uint64_t{0}) continue;
    const size_t end = std::min(n, (w + 1) * 64);
    if (word == 0) {  // the common case in narrow states: 64 banned tokens at once
      std::fill(logits.begin() + static_cast<std::ptrdiff_t>(w * 64),
                logits.begin() + static_cast<std::ptrdiff_t>(end), kNegInf);
      continue;
    }
    for (size_t i = w * 64; i < end; ++i)
      if (!((word >> (i & 63)) & 1u)) logits[i] = kNegInf;
  }
}

bool TokenMasker::accept(int32_t id) {
  if (id < 0 || id >= trie_->n_vocab()) return false;
  const std::vector<uint64_t>& bits = allowed();
  if (!((bits[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1u)) return false;
  for (int32_t e : trie_->end_tokens()) {
    if (e == id) {
      ended_ = true;
      return true;
    }
  }
  state_ = matcher_.advance(state_, trie_->piece(id));
  // Long generations over deeply recursive grammars keep creating states: start afresh from
  // the current one when the caches grow too large.
  if (matcher_.memory_bytes() > kMaxMatcherBytes) {
    state_ = matcher_.compact(state_);
    cache_.clear();
  }
  return true;
}

bool TokenMasker::can_continue_with(std::string_view bytes) {
  return matcher_.advance(state_, bytes) != Matcher::kDead;
}

}  // namespace inference::grammar
