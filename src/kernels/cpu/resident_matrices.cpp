// kernels/cpu/resident_matrices.cpp — see resident_matrices.hpp.
#include "kernels/cpu/resident_matrices.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace inference::kernels {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kCopyPiece = size_t{1} << 20;  // work unit of the parallel copy

size_t align64(size_t n) {
  return (n + 63) & ~size_t{63};
}

size_t matrix_bytes(const WeightView& m) {
  return static_cast<size_t>(m.rows) * m.row_bytes;
}

}  // namespace

bool transparent_huge_pages_available() noexcept {
#if defined(__linux__)
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(in, line)) return false;
  return line.find("[always]") != std::string::npos || line.find("[madvise]") != std::string::npos;
#else
  return false;
#endif
}

ResidentMatrices::ResidentMatrices(ResidentMatrices&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

ResidentMatrices& ResidentMatrices::operator=(ResidentMatrices&& other) noexcept {
  if (this != &other) {
    ResidentMatrices gone(std::move(*this));
    base_ = std::exchange(other.base_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

ResidentMatrices::~ResidentMatrices() {
#if defined(__linux__)
  if (base_ != nullptr) ::munmap(base_, mapped_);
#endif
}

ResidentMatrices ResidentMatrices::adopt(const std::vector<WeightView*>& matrices,
                                         const std::vector<WeightView*>& views, ThreadPool& pool,
                                         const ReleaseFn& release) {
  ResidentMatrices out;
#if defined(__linux__)
  if (!transparent_huge_pages_available()) return out;
  size_t total = 0;
  for (const WeightView* m : matrices) total += align64(matrix_bytes(*m));
  if (total == 0) return out;
  // One huge page more than needed, so the copy can start on a huge-page boundary.
  const size_t mapped = (total + kHugePage - 1) / kHugePage * kHugePage + kHugePage;
  void* base = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return out;
  out.base_ = base;
  out.mapped_ = mapped;
  out.bytes_ = total;
  const auto start = (reinterpret_cast<uintptr_t>(base) + kHugePage - 1) / kHugePage * kHugePage;
  ::madvise(reinterpret_cast<void*>(start), mapped - (start - reinterpret_cast<uintptr_t>(base)),
            MADV_HUGEPAGE);  // advice: without it the copy still works, on small pages
  // Pieces of at most kCopyPiece bytes, copied in parallel (faulting in the huge pages on the
  // threads that will read them most is not attempted: decode splits every matrix by rows).
  struct Piece {
    const std::byte* from;
    std::byte* to;
    size_t bytes;
  };
  std::vector<Piece> pieces;
  std::vector<std::byte*> destinations;
  auto* cursor = reinterpret_cast<std::byte*>(start);
  for (const WeightView* m : matrices) {
    const auto* from = static_cast<const std::byte*>(m->data);
    const size_t n = matrix_bytes(*m);
    for (size_t off = 0; off < n; off += kCopyPiece)
      pieces.push_back({from + off, cursor + off, std::min(kCopyPiece, n - off)});
    destinations.push_back(cursor);
    cursor += align64(n);
  }
  // Each piece's file pages are released as soon as it is copied, so that resident memory
  // never holds much more than one copy of the weights (the pages straddling two pieces go
  // with their whole matrix below).
  pool.parallel_for(static_cast<int64_t>(pieces.size()), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const Piece& piece = pieces[static_cast<size_t>(i)];
      std::memcpy(piece.to, piece.from, piece.bytes);
      release(piece.from, piece.bytes);
    }
  });
  // Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 matrices take the layout their decode kernels read fastest, in place.
  struct RowRange {
    const WeightView* m;
    std::byte* data;
    int64_t r0, r1;
  };
  std::vector<RowRange> ranges;
  std::vector<RowLayout> layouts(matrices.size(), RowLayout::ggml);
  for (size_t i = 0; i < matrices.size(); ++i) {
    const WeightView& m = *matrices[i];
    if (m.layout != RowLayout::ggml || !interleaving_pays(m.type)) continue;
    layouts[i] = RowLayout::interleaved;
    constexpr int64_t kRowsPerRange = 256;
    for (int64_t r = 0; r < m.rows; r += kRowsPerRange)
      ranges.push_back({&m, destinations[i], r, std::min(m.rows, r + kRowsPerRange)});
  }
  pool.parallel_for(static_cast<int64_t>(ranges.size()), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const RowRange& r = ranges[static_cast<size_t>(i)];
      interleave_weight_rows(r.m->type, r.data, r.m->row_bytes, r.m->cols, r.r0, r.r1);
    }
  });
  ::mprotect(base, mapped, PROT_READ);  // the weights are never written
  // Every view of a copied matrix (repeats and a tied embedding included) moves to the copy.
  for (size_t i = 0; i < matrices.size(); ++i) {
    const void* old = matrices[i]->data;
    release(old, matrix_bytes(*matrices[i]));
    for (WeightView* v : views) {
      if (v->data != old) continue;
      v->data = destinations[i];
      v->layout = layouts[i];
    }
  }
#else
  (void)matrices;
  (void)views;
  (void)pool;
  (void)release;
#endif
  return out;
}

}  // namespace inference::kernels
