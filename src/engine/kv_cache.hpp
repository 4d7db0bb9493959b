// engine/kv_cache.hpp — keys and values of every layer, per sequence.
//
// Each sequence owns a fixed block of cells per layer, allocated once at load (untouched pages
// cost nothing until used). Global layers hold one cell per position (capacity = context
// length); sliding-window layers hold a ring of window + max_batch cells (cell = position mod
// capacity), enough for every query of one chunk to see its whole window while the chunk's own
// keys are written first. Cells remember their position (-1 = empty); attention masks by it.
//
// Layout per layer: [sequence][KV head][cell][head_dim], so the cells of one KV head are one
// contiguous run that generation streams through (a cell-major layout would make each head's
// read a 1-in-n_head_kv stride that the prefetchers follow badly). Elements are float, F16, or
// Q8_0 blocks (32 elements: an F16 scale + 32 int8, 34 bytes: half the bytes of F16 less 6%).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/hparams.hpp"
#include "kernels/cpu/ops/attention.hpp"

namespace inference::engine {

enum class KvElement { f32, f16, q8_0 };

/// "f32", "f16", "q8_0" (the names of --kv-type); nullopt for any other.
std::optional<KvElement> kv_element_from_name(std::string_view name) noexcept;

class KvCache {
 public:
  /// type: how keys/values are stored (Q8_0 needs head_dim a multiple of 32: Error(unsupported)
  /// otherwise). max_batch: the most tokens of one sequence in one forward chunk. Throws
  /// Error(out_of_memory) if the cache cannot be allocated.
  KvCache(const HParams& hp, int32_t n_seq, int32_t n_ctx, int32_t max_batch, KvElement type);

  int32_t n_seq() const noexcept { return n_seq_; }
  int32_t n_ctx() const noexcept { return n_ctx_; }
  KvElement type() const noexcept { return type_; }
  uint64_t bytes() const noexcept { return bytes_; }
  /// Writes every page of the key and value storage once, so that it is resident from now on
  /// (by default a page is first touched when a position in it is stored).
  void prefault() noexcept;
  /// Bytes of keys and values a query at `pos` of `seq` reads over all layers (what one
  /// generated token streams from the cache).
  uint64_t bytes_read_at(int32_t pos) const noexcept;

  int32_t length(int32_t seq) const noexcept { return lengths_[static_cast<size_t>(seq)]; }
  std::span<const int32_t> tokens(int32_t seq) const noexcept;

  /// Marks the cells of positions [pos, pos + count) of `seq` as holding those positions (both
  /// kinds of layers). Called before a chunk's keys are stored.
  void claim_cells(int32_t seq, int32_t pos, int32_t count) noexcept;
  /// Stores one token's key and value rows (kv_dim floats each) for layer `il`.
  void store(int32_t seq, int32_t il, int32_t pos, const float* k, const float* v) noexcept;
  /// Appends `token` to what `seq` holds (called once per token after its chunk is evaluated).
  void commit(int32_t seq, int32_t token) noexcept;

  /// Forgets positions >= from_pos. If sliding-window layers no longer hold the window that
  /// position from_pos needs, the whole sequence is cleared (length 0) instead.
  void truncate(int32_t seq, int32_t from_pos) noexcept;

  /// The cells of one KV head of layer il of seq that a query at `pos` may need (global layers
  /// stop at cell pos: later cells hold later positions).
  kernels::KvHeadView view(int32_t seq, int32_t il, int32_t kv_head, int32_t pos) const noexcept;

 private:
  struct Kind {  // global or local layers share one cell->position map per sequence
    int32_t capacity = 0;
    std::vector<int32_t> cell_pos;  // n_seq * capacity
  };
  const Kind& kind_of(int32_t il) const noexcept {
    return local_[static_cast<size_t>(il)] ? local_kind_ : global_kind_;
  }
  /// Bytes of one layer's keys (or values): every sequence's cells of every KV head.
  size_t layer_bytes(int32_t il) const noexcept {
    return static_cast<size_t>(n_seq_) * static_cast<size_t>(kind_of(il).capacity) *
           static_cast<size_t>(n_head_kv_) * row_bytes_;
  }
  size_t cell_offset(int32_t seq, int32_t il, int32_t kv_head, int32_t cell) const noexcept;
  void store_row(const float* x, std::byte* out) const noexcept;

  int32_t n_seq_ = 0, n_ctx_ = 0, n_head_kv_ = 0, head_dim_ = 0, window_ = 0;
  KvElement type_ = KvElement::f16;
  size_t row_bytes_ = 0;  // one KV head of one cell
  uint64_t bytes_ = 0;
  std::vector<bool> local_;
  Kind global_kind_, local_kind_;
  std::vector<std::unique_ptr<std::byte[]>> k_, v_;  // per layer
  std::vector<int32_t> lengths_;
  std::vector<std::vector<int32_t>> tokens_;  // per sequence, capacity n_ctx reserved
};

}  // namespace inference::engine
