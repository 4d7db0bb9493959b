// engine/kv_cache.hpp — keys and values of every layer, per sequence.
//
// Each sequence owns a fixed block of cells per layer, allocated once at load (untouched pages
// cost nothing until used). Global layers hold one cell per position (capacity = context
// length); sliding-window layers hold a ring of window + max_batch cells (cell = position mod
// capacity), enough for every query of one chunk to see its whole window while the chunk's own
// keys are written first. Cells remember their position (-1 = empty); attention masks by it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/hparams.hpp"
#include "kernels/cpu/ops/attention.hpp"

namespace inference::engine {

class KvCache {
 public:
  /// f16: store keys/values as F16 (else float). max_batch: the most tokens of one sequence
  /// in one forward chunk. Throws Error(out_of_memory) if the cache cannot be allocated.
  KvCache(const HParams& hp, int32_t n_seq, int32_t n_ctx, int32_t max_batch, bool f16);

  int32_t n_seq() const noexcept { return n_seq_; }
  int32_t n_ctx() const noexcept { return n_ctx_; }
  bool f16() const noexcept { return f16_; }
  uint64_t bytes() const noexcept { return bytes_; }

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
  size_t cell_offset(int32_t seq, int32_t il, int32_t cell) const noexcept;

  int32_t n_seq_ = 0, n_ctx_ = 0, kv_dim_ = 0, head_dim_ = 0, window_ = 0;
  bool f16_ = false;
  size_t elem_ = 4;
  uint64_t bytes_ = 0;
  std::vector<bool> local_;
  Kind global_kind_, local_kind_;
  std::vector<std::unique_ptr<std::byte[]>> k_, v_;  // per layer
  std::vector<int32_t> lengths_;
  std::vector<std::vector<int32_t>> tokens_;  // per sequence, capacity n_ctx reserved
};

}  // namespace inference::engine
