#include "tokenizer/spm.hpp"

#include <algorithm>

#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {
namespace {

struct Symbol {
  int32_t prev, next;
  uint32_t offset, length;
};

// The right symbol is not stored: it is left.next when the pair is popped, and the stored
// size tells whether either side changed in between.
struct Bigram {
  float score;
  int32_t left;
  uint32_t size;
};

// Heap order: highest score on top, then leftmost.
struct Lower {
  bool operator()(const Bigram& a, const Bigram& b) const noexcept {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void spm_tokenize(std::string_view text, const Vocab& vocab, const int32_t (&byte_tokens)[256],
                  std::vector<int32_t>& out) {
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t offs = 0; offs < text.size();) {
    const size_t len =
        std::min(utf8_lead_length(static_cast<unsigned char>(text[offs])), text.size() - offs);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, offs + len == text.size() ? -1 : index + 1,
                       static_cast<uint32_t>(offs), static_cast<uint32_t>(len)});
    offs += len;
  }
  std::vector<Bigram> heap;
  heap.reserve(symbols.size());
  auto make = [&](int32_t left, int32_t right) -> bool {
    if (left < 0 || right < 0) return false;
    const uint32_t size = symbols[left].length + symbols[right].length;
    if (size > vocab.max_text_length()) return false;
    const int32_t id = vocab.find(text.substr(symbols[left].offset, size));
    if (id < 0) return false;
    heap.push_back({vocab.score(id), left, size});
    return true;
  };
  auto try_add = [&](int32_t left, int32_t right) {
    if (make(left, right)) std::push_heap(heap.begin(), heap.end(), Lower{});
  };
  // Seed with every adjacent pair that is a token, heapified at once (O(n)).
  for (size_t i = 1; i < symbols.size(); ++i)
    make(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  std::make_heap(heap.begin(), heap.end(), Lower{});

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), Lower{});
    const Bigram b = heap.back();
    heap.pop_back();
    Symbol& left = symbols[b.left];
    if (left.length == 0 || left.next < 0) continue;
    const int32_t right_index = left.next;
    Symbol& right = symbols[right_index];
    // Skip pairs one of whose symbols has changed since the pair was queued.
    if (left.length + right.length != b.size) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  if (symbols.empty()) return;
  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    const std::string_view piece = text.substr(s.offset, s.length);
    const int32_t id = vocab.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Merged symbols are always tokens, so only single characters get here: spell them out.
    for (char c : piece) {
      const int32_t byte_id = byte_tokens[static_cast<unsigned char>(c)];
      if (byte_id >= 0) out.push_back(byte_id);
    }
  }
}

}  // namespace inference::tokenizer
