#include "tokenizer/spm.hpp"

#include <algorithm>
#include <cstring>

#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {
namespace {

struct Symbol {
  int32_t prev, next;
  uint32_t offset, length;
  int32_t id;  // token of a merged symbol; kUnknown for a single character not yet looked up
};

constexpr int32_t kUnknown = -2;

// The right symbol is not stored: it is left.next when the pair is popped, and the stored
// size tells whether either side changed in between.
struct Bigram {
  uint64_t key;  // heap order: see bigram_key
  uint32_t size;
  int32_t id;
  int32_t left() const noexcept { return static_cast<int32_t>(~static_cast<uint32_t>(key)); }
};

// One integer whose order is the heap order: higher score first, then leftmost. The score's
// bits are mapped so that unsigned order is float order (-0 is folded into +0 first, so equal
// floats give equal keys), and the low half is the complement of the left index.
inline uint64_t bigram_key(float score, int32_t left) noexcept {
  uint32_t bits;
  const float folded = score + 0.0f;
  std::memcpy(&bits, &folded, sizeof bits);
  bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return (static_cast<uint64_t>(bits) << 32) | ~static_cast<uint32_t>(left);
}

struct Lower {
  bool operator()(const Bigram& a, const Bigram& b) const noexcept { return a.key < b.key; }
};

// Per-thread scratch, reused across calls so that encoding does not allocate per piece.
struct Scratch {
  std::vector<Symbol> symbols;
  std::vector<Bigram> heap;
  std::vector<uint64_t> hashes;
};

}  // namespace

void spm_tokenize(std::string_view text, const Vocab& vocab, const int32_t (&byte_tokens)[256],
                  std::vector<int32_t>& out) {
  thread_local Scratch scratch;
  std::vector<Symbol>& symbols = scratch.symbols;
  std::vector<Bigram>& heap = scratch.heap;
  symbols.clear();
  heap.clear();
  symbols.reserve(text.size());
  for (size_t offs = 0; offs < text.size();) {
    const size_t len =
        std::min(utf8_lead_length(static_cast<unsigned char>(text[offs])), text.size() - offs);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, offs + len == text.size() ? -1 : index + 1,
                       static_cast<uint32_t>(offs), static_cast<uint32_t>(len), kUnknown});
    offs += len;
  }
  heap.reserve(symbols.size());
  const size_t max_length = vocab.max_text_length();
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t size = symbols[left].length + symbols[right].length;
    if (size > max_length) return;
    const int32_t id = vocab.find(text.substr(symbols[left].offset, size));
    if (id < 0) return;
    heap.push_back({bigram_key(vocab.score(id), left), size, id});
    std::push_heap(heap.begin(), heap.end(), Lower{});
  };
  // Merges the symbols [begin, end): seeds the heap with every adjacent pair that is a token,
  // heapified at once (O(n)), then pops. The seeding lookups are independent, so their hashes
  // are computed first and the table slots prefetched ahead.
  std::vector<uint64_t>& hashes = scratch.hashes;
  auto merge_run = [&](size_t begin, size_t end) {
    const size_t pairs = end - begin - 1;
    hashes.resize(pairs);
    for (size_t i = 0; i < pairs; ++i) {
      const Symbol& l = symbols[begin + i];
      const uint32_t size = l.length + symbols[begin + i + 1].length;
      hashes[i] = size > max_length ? 0 : hash_bytes(text.substr(l.offset, size));
    }
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < std::min(kAhead, pairs); ++i) vocab.prefetch(hashes[i]);
    for (size_t i = 0; i < pairs; ++i) {
      if (i + kAhead < pairs) vocab.prefetch(hashes[i + kAhead]);
      const Symbol& l = symbols[begin + i];
      const uint32_t size = l.length + symbols[begin + i + 1].length;
      if (size > max_length) continue;
      const int32_t id = vocab.find(text.substr(l.offset, size), hashes[i]);
      if (id < 0) continue;
      heap.push_back({bigram_key(vocab.score(id), static_cast<int32_t>(begin + i)), size, id});
    }
    std::make_heap(heap.begin(), heap.end(), Lower{});

    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), Lower{});
      const Bigram b = heap.back();
      heap.pop_back();
      const int32_t left_index = b.left();
      Symbol& left = symbols[left_index];
      if (left.length == 0 || left.next < 0) continue;
      const int32_t right_index = left.next;
      Symbol& right = symbols[right_index];
      // Skip pairs one of whose symbols has changed since the pair was queued.
      if (left.length + right.length != b.size) continue;
      left.length += right.length;
      left.id = b.id;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = left_index;
      try_add(left.prev, left_index);
      try_add(left_index, left.next);
    }
  };
  // A one-byte symbol whose byte occurs in no token of two or more bytes can never be merged,
  // so no pair ever spans it: the runs between such symbols are merged independently, each with
  // its own small heap. Within a run the pops come in the same order as with one heap over the
  // whole text (the order depends only on scores and relative positions), so the result is the
  // same.
  for (size_t begin = 0; begin < symbols.size();) {
    size_t end = begin;
    while (end < symbols.size() &&
           !(symbols[end].length == 1 &&
             !vocab.in_long_text(static_cast<unsigned char>(text[symbols[end].offset]))))
      ++end;
    if (end > begin + 1) merge_run(begin, end);
    begin = end + 1;
  }

  if (symbols.empty()) return;
  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    const std::string_view piece = text.substr(s.offset, s.length);
    const int32_t id = s.id != kUnknown ? s.id : vocab.find(piece);
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
