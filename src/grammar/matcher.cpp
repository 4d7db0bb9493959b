#include "grammar/matcher.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "inference/error.hpp"

namespace inference::grammar {

Matcher::Matcher(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {
  // Bytes that no set tells apart share a class: the transition table stays narrow.
  std::map<std::vector<bool>, uint16_t> classes;
  for (unsigned b = 0; b < 256; ++b) {
    std::vector<bool> signature(grammar_->sets.size());
    for (size_t i = 0; i < grammar_->sets.size(); ++i)
      signature[i] = grammar_->sets[i].test(static_cast<uint8_t>(b));
    auto [it, inserted] = classes.emplace(std::move(signature), classes.size());
    byte_class_[b] = it->second;
  }
  n_classes_ = classes.size();
  reset_caches();
}

void Matcher::reset_caches() {
  nodes_.clear();
  node_ids_.clear();
  states_.clear();
  state_ids_.clear();
  trans_.clear();
  accepting_.clear();
  continuing_.clear();
  nodes_.push_back({-1, -1});  // kAcceptNode: the empty stack
  std::vector<int32_t> none;
  intern(none);  // kDead
  std::vector<int32_t> tops;
  work_.clear();
  seen_.clear();
  for (int32_t alt : grammar_->rules[static_cast<size_t>(grammar_->root)]) expand(alt, -1, tops);
  start_ = intern(tops);
}

size_t Matcher::memory_bytes() const {
  size_t bytes = nodes_.size() * sizeof(Node) + node_ids_.size() * 32 +
                 trans_.size() * sizeof(int32_t) + states_.size() * 64;
  for (const auto& s : states_) bytes += s.size() * sizeof(int32_t);
  return bytes;
}

int32_t Matcher::node(int32_t pos, int32_t parent) {
  const uint64_t key =
      (static_cast<uint64_t>(static_cast<uint32_t>(pos)) << 32) | static_cast<uint32_t>(parent);
  auto [it, inserted] = node_ids_.emplace(key, static_cast<int32_t>(nodes_.size()));
  if (inserted) nodes_.push_back({pos, parent});
  return it->second;
}

void Matcher::expand(int32_t pos, int32_t parent, std::vector<int32_t>& out) {
  const auto& elems = grammar_->elems;
  work_.emplace_back(pos, parent);
  while (!work_.empty()) {
    auto [p, par] = work_.back();
    work_.pop_back();
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(p)) << 32) | static_cast<uint32_t>(par);
    if (!seen_.insert(key)) continue;
    if (seen_.size() > kMaxLivePositions)
      throw Error(ErrorCode::invalid_argument,
                  "grammar: too ambiguous: more than " + std::to_string(kMaxLivePositions) +
                      " parse positions live at once (nested repetitions of items that can "
                      "overlap, such as (x{1,60}){1,100})");
    const Elem& e = elems[static_cast<size_t>(p)];
    switch (e.kind) {
      case ElemKind::end:
        if (par < 0) {
          out.push_back(kAcceptNode);
        } else {
          const Node n = nodes_[static_cast<size_t>(par)];
          work_.emplace_back(n.pos, n.parent);
        }
        break;
      case ElemKind::byte:
        out.push_back(node(p, par));
        break;
      case ElemKind::ref: {
        // In tail position the caller's frame is popped first, so x* loops stay flat.
        const int32_t ret =
            elems[static_cast<size_t>(p) + 1].kind == ElemKind::end ? par : node(p + 1, par);
        for (int32_t alt : grammar_->rules[static_cast<size_t>(e.value)])
          work_.emplace_back(alt, ret);
        break;
      }
    }
  }
}

Matcher::State Matcher::intern(std::vector<int32_t>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::string_view key(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(int32_t));
  if (auto it = state_ids_.find(key); it != state_ids_.end()) return it->second;
  const auto id = static_cast<State>(states_.size());
  states_.push_back(ids);
  const auto& stored = states_.back();
  state_ids_.emplace(std::string_view(reinterpret_cast<const char*>(stored.data()),
                                      stored.size() * sizeof(int32_t)),
                     id);
  trans_.resize(trans_.size() + n_classes_, -1);
  bool accepting = false, continuing = false;
  for (int32_t n : stored) (n == kAcceptNode ? accepting : continuing) = true;
  accepting_.push_back(accepting);
  continuing_.push_back(continuing);
  return id;
}

Matcher::State Matcher::compute(State s, uint8_t byte) {
  scratch_.clear();
  work_.clear();
  seen_.clear();
  const auto& elems = grammar_->elems;
  // Copy: expand() may add nodes, and intern() states, while we iterate.
  const std::vector<int32_t> from = states_[static_cast<size_t>(s)];
  for (int32_t id : from) {
    if (id == kAcceptNode) continue;
    const Node n = nodes_[static_cast<size_t>(id)];
    const Elem& e = elems[static_cast<size_t>(n.pos)];
    if (grammar_->sets[static_cast<size_t>(e.value)].test(byte))
      expand(n.pos + 1, n.parent, scratch_);
  }
  return intern(scratch_);
}

Matcher::State Matcher::compact(State keep) {
  std::vector<std::vector<int32_t>> chains;
  for (int32_t id : states_[static_cast<size_t>(keep)]) {
    std::vector<int32_t> chain;
    for (int32_t n = id; n > 0; n = nodes_[static_cast<size_t>(n)].parent)
      chain.push_back(nodes_[static_cast<size_t>(n)].pos);
    if (id == kAcceptNode) chain.push_back(-1);
    chains.push_back(std::move(chain));
  }
  reset_caches();
  std::vector<int32_t> ids;
  for (const auto& chain : chains) {
    if (chain.size() == 1 && chain[0] == -1) {
      ids.push_back(kAcceptNode);
      continue;
    }
    int32_t parent = -1;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) parent = node(*it, parent);
    ids.push_back(parent);
  }
  return intern(ids);
}

}  // namespace inference::grammar
