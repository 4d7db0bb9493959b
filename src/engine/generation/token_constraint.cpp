#include "engine/generation/token_constraint.hpp"

#include <mutex>
#include <unordered_map>

#include "grammar/compile.hpp"
#include "grammar/token_masker.hpp"
#include "grammar/token_trie.hpp"
#include "inference/error.hpp"

namespace inference::generation {
namespace {

std::shared_ptr<const grammar::TokenTrie> build_trie(const tokenizer::Tokenizer& tok) {
  const int32_t n = tok.n_vocab();
  std::vector<std::string> pieces(static_cast<size_t>(n));
  std::vector<grammar::TokenClass> classes(static_cast<size_t>(n), grammar::TokenClass::text);
  for (int32_t id = 0; id < n; ++id) {
    pieces[static_cast<size_t>(id)] = tok.token_to_piece(id);
    auto& c = classes[static_cast<size_t>(id)];
    if (tok.is_end_of_generation(id)) {
      c = grammar::TokenClass::end;
      continue;
    }
    switch (tok.token_type(id)) {
      case tokenizer::TokenType::control:
        c = grammar::TokenClass::special;
        break;
      case tokenizer::TokenType::unknown:
      case tokenizer::TokenType::unused:
        c = grammar::TokenClass::never;
        break;
      default:
        break;  // normal, user-defined, byte: matched by their bytes
    }
  }
  return std::make_shared<const grammar::TokenTrie>(pieces, classes);
}

bool same_vocabulary(const grammar::TokenTrie& trie, const tokenizer::Tokenizer& tok) {
  const int32_t n = tok.n_vocab();
  if (trie.n_vocab() != n) return false;
  for (int32_t id : {0, n / 3, n / 2, n - 1})
    if (id >= 0 && id < n && trie.piece(id) != tok.token_to_piece(id)) return false;
  return true;
}

// One trie per tokenizer, shared by every constrained sequence (building it walks the whole
// vocabulary: tens of milliseconds for 150k+ tokens). The most recently used trie is also held
// strongly, so that one request after another does not rebuild it.
std::shared_ptr<const grammar::TokenTrie> shared_trie(const tokenizer::Tokenizer& tok) {
  static std::mutex mutex;
  static std::unordered_map<const tokenizer::Tokenizer*, std::weak_ptr<const grammar::TokenTrie>>
      cache;
  static std::shared_ptr<const grammar::TokenTrie> last;
  std::lock_guard lock(mutex);
  auto& slot = cache[&tok];
  auto trie = slot.lock();
  // A tokenizer at a reused address would have a different vocabulary: check the pieces.
  if (!trie || !same_vocabulary(*trie, tok)) {
    trie = build_trie(tok);
    slot = trie;
  }
  last = trie;
  return trie;
}

class GrammarConstraint final : public TokenConstraint {
 public:
  GrammarConstraint(std::shared_ptr<const grammar::Grammar> g,
                    std::shared_ptr<const grammar::TokenTrie> trie)
      : masker_(std::move(g), std::move(trie)) {}

  void mask(std::span<float> logits) override { masker_.mask(logits); }
  void accept(int32_t id) override {
    if (!masker_.accept(id))
      throw Error(ErrorCode::invalid_argument,
                  "constrained decoding: token " + std::to_string(id) +
                      " does not continue the grammar (was the mask applied?)");
  }
  bool complete() const override { return masker_.complete(); }
  bool exhausted() const override { return masker_.exhausted(); }

 private:
  grammar::TokenMasker masker_;
};

}  // namespace

std::unique_ptr<TokenConstraint> make_token_constraint(const OutputConstraint& constraint,
                                                       const tokenizer::Tokenizer& tokenizer) {
  if (constraint.kind == OutputConstraint::Kind::none) return nullptr;
  auto compiled = grammar::compile_constraint(constraint);
  return std::make_unique<GrammarConstraint>(std::move(compiled), shared_trie(tokenizer));
}

}  // namespace inference::generation
