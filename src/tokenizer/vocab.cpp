#include "tokenizer/vocab.hpp"

namespace inference::tokenizer {

Vocab::Vocab(const std::vector<std::string_view>& texts, std::vector<TokenType> types,
             std::vector<float> scores)
    : types_(std::move(types)), scores_(std::move(scores)) {
  size_t total = 0;
  for (auto t : texts) total += t.size();
  arena_.reserve(total);
  offsets_.reserve(texts.size() + 1);
  for (auto t : texts) {
    offsets_.push_back(static_cast<uint32_t>(arena_.size()));
    arena_.append(t);
    if (t.size() > max_length_) max_length_ = t.size();
  }
  offsets_.push_back(static_cast<uint32_t>(arena_.size()));
  types_.resize(texts.size(), TokenType::normal);
  if (!scores_.empty()) scores_.resize(texts.size(), 0.0f);
  // The arena is complete: views into it stay valid for the life of the Vocab.
  index_.reserve(texts.size());
  for (int32_t id = 0; id < size(); ++id) index_.insert_or_assign(text(id), id);
}

}  // namespace inference::tokenizer
