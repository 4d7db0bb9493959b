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
    if (t.size() >= 2) {
      for (char c : t) {
        const auto b = static_cast<unsigned char>(c);
        in_long_[b >> 6] |= uint64_t{1} << (b & 63);
      }
    }
  }
  offsets_.push_back(static_cast<uint32_t>(arena_.size()));
  types_.resize(texts.size(), TokenType::normal);
  if (!scores_.empty()) scores_.resize(texts.size(), 0.0f);
  // The arena is complete: views into it stay valid for the life of the Vocab.
  const size_t table = table_size_for(texts.size());
  slots_.assign(table, Slot{-1, 0, 0, 0});
  mask_ = table - 1;
  for (int32_t id = 0; id < size(); ++id) {
    const std::string_view t = text(id);
    const uint64_t h = hash_bytes(t);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].id < 0) {
        slots_[i] =
            Slot{id, static_cast<uint32_t>(h), offsets_[id], static_cast<uint32_t>(t.size())};
        break;
      }
      if (slots_[i].hash == static_cast<uint32_t>(h) && text(slots_[i].id) == t) {
        slots_[i].id = id;  // a later token with the same text wins
        break;
      }
    }
  }
}

}  // namespace inference::tokenizer
