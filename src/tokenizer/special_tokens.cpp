#include "tokenizer/special_tokens.hpp"

#include <algorithm>

namespace inference::tokenizer {

SpecialTokenMatcher::SpecialTokenMatcher(std::vector<Entry> entries)
    : entries_(std::move(entries)) {
  // Empty texts can never be found; drop them so that the trie root is never a match.
  std::erase_if(entries_, [](const Entry& e) { return e.text.empty(); });
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.text.size() != b.text.size()) return a.text.size() > b.text.size();
    return a.id < b.id;
  });
  node_entry_.push_back(-1);
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    uint32_t node = 0;
    for (char c : entries_[i].text) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(c);
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        it = edges_.emplace(key, static_cast<uint32_t>(node_entry_.size())).first;
        node_entry_.push_back(-1);
      }
      node = it->second;
    }
    // Two tokens with the same text: the first in priority order (lower id) is the one found.
    if (node_entry_[node] < 0) node_entry_[node] = static_cast<int32_t>(i);
    first_byte_[static_cast<unsigned char>(entries_[i].text[0])] = true;
  }
}

template <class Fn>
void SpecialTokenMatcher::matches_at(std::string_view text, size_t pos, bool parse_special,
                                     Fn&& fn) const {
  if (!first_byte_[static_cast<unsigned char>(text[pos])]) return;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]);
    auto it = edges_.find(key);
    if (it == edges_.end()) return;
    node = it->second;
    const int32_t e = node_entry_[node];
    if (e >= 0 && (parse_special || entries_[e].always)) fn(static_cast<uint32_t>(e));
  }
}

namespace {

bool is_c_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

std::vector<Fragment> fragments_from_marks(std::string_view text, const std::vector<int32_t>& owner,
                                           const std::vector<uint32_t>& token_len) {
  // owner[i]: -1 free text, -2 removed (stripped whitespace), >= 0 the token starting or
  // continuing here; token_len[i] > 0 only where a token starts.
  std::vector<Fragment> out;
  size_t i = 0;
  while (i < text.size()) {
    if (owner[i] == -2) {
      ++i;
    } else if (owner[i] >= 0) {
      out.push_back({owner[i], static_cast<uint32_t>(i), token_len[i]});
      i += token_len[i];
    } else {
      size_t j = i;
      while (j < text.size() && owner[j] == -1) ++j;
      out.push_back({-1, static_cast<uint32_t>(i), static_cast<uint32_t>(j - i)});
      i = j;
    }
  }
  return out;
}

}  // namespace

std::vector<Fragment> SpecialTokenMatcher::partition_longest_first(std::string_view text,
                                                                   bool parse_special) const {
  std::vector<Match> found;
  if (!entries_.empty()) {
    for (size_t pos = 0; pos < text.size(); ++pos) {
      matches_at(text, pos, parse_special, [&](uint32_t e) {
        found.push_back({static_cast<uint32_t>(pos), e});
      });
    }
  }
  if (found.empty()) {
    if (text.empty()) return {};
    return {Fragment{-1, 0, static_cast<uint32_t>(text.size())}};
  }
  // Entries are numbered in priority order, so sorting by (entry, pos) replays llama.cpp's
  // loop: token by token, occurrences left to right.
  std::sort(found.begin(), found.end(), [](const Match& a, const Match& b) {
    return a.entry != b.entry ? a.entry < b.entry : a.pos < b.pos;
  });
  std::vector<int32_t> owner(text.size(), -1);
  std::vector<uint32_t> token_len(text.size(), 0);
  for (const Match& m : found) {
    const Entry& e = entries_[m.entry];
    const size_t end = m.pos + e.text.size();
    bool free = true;
    for (size_t i = m.pos; i < end && free; ++i) free = owner[i] == -1;
    if (!free) continue;
    for (size_t i = m.pos; i < end; ++i) owner[i] = e.id;
    token_len[m.pos] = static_cast<uint32_t>(e.text.size());
    // Whitespace next to the token, inside the same piece of free text, is dropped.
    if (e.lstrip) {
      for (size_t i = m.pos; i > 0 && owner[i - 1] == -1 && is_c_space(text[i - 1]); --i)
        owner[i - 1] = -2;
    }
    if (e.rstrip) {
      for (size_t i = end; i < text.size() && owner[i] == -1 && is_c_space(text[i]); ++i)
        owner[i] = -2;
    }
  }
  return fragments_from_marks(text, owner, token_len);
}

std::vector<Fragment> SpecialTokenMatcher::partition_leftmost_longest(std::string_view text,
                                                                      bool parse_special) const {
  std::vector<Fragment> out;
  size_t text_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t best = -1;
    if (!entries_.empty()) {
      matches_at(text, pos, parse_special, [&](uint32_t e) {
        // Later callbacks are longer matches: keep the last one.
        best = static_cast<int32_t>(e);
      });
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const Entry& e = entries_[static_cast<size_t>(best)];
    size_t text_end = pos;
    if (e.lstrip) {
      while (text_end > text_start && is_c_space(text[text_end - 1])) --text_end;
    }
    if (text_end > text_start)
      out.push_back(
          {-1, static_cast<uint32_t>(text_start), static_cast<uint32_t>(text_end - text_start)});
    out.push_back({e.id, static_cast<uint32_t>(pos), static_cast<uint32_t>(e.text.size())});
    pos += e.text.size();
    if (e.rstrip) {
      while (pos < text.size() && is_c_space(text[pos])) ++pos;
    }
    text_start = pos;
  }
  if (text_start < text.size())
    out.push_back(
        {-1, static_cast<uint32_t>(text_start), static_cast<uint32_t>(text.size() - text_start)});
  return out;
}

}  // namespace inference::tokenizer
