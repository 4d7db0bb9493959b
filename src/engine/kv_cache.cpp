// engine/kv_cache.cpp — see kv_cache.hpp.
#include "engine/kv_cache.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "inference/error.hpp"
#include "kernels/cpu/fp16.hpp"

namespace inference::engine {

KvCache::KvCache(const HParams& hp, int32_t n_seq, int32_t n_ctx, int32_t max_batch, bool f16)
    : n_seq_(n_seq),
      n_ctx_(n_ctx),
      kv_dim_(hp.kv_dim()),
      head_dim_(hp.head_dim),
      window_(hp.sliding_window),
      f16_(f16),
      elem_(f16 ? 2 : 4) {
  global_kind_.capacity = n_ctx;
  local_kind_.capacity =
      std::min<int64_t>(n_ctx, static_cast<int64_t>(hp.sliding_window) + max_batch);
  local_.resize(static_cast<size_t>(hp.n_layer));
  try {
    for (auto* kind : {&global_kind_, &local_kind_}) {
      kind->cell_pos.assign(static_cast<size_t>(n_seq) * static_cast<size_t>(kind->capacity), -1);
    }
    for (int32_t il = 0; il < hp.n_layer; ++il) {
      local_[static_cast<size_t>(il)] = hp.is_local_layer(il);
      const size_t n = static_cast<size_t>(n_seq) * static_cast<size_t>(kind_of(il).capacity) *
                       static_cast<size_t>(kv_dim_) * elem_;
      // Not value-initialised: pages are only touched when a position is stored.
      k_.push_back(std::make_unique_for_overwrite<std::byte[]>(n));
      v_.push_back(std::make_unique_for_overwrite<std::byte[]>(n));
      bytes_ += 2 * n;
    }
    lengths_.assign(static_cast<size_t>(n_seq), 0);
    tokens_.resize(static_cast<size_t>(n_seq));
    for (auto& t : tokens_) t.reserve(static_cast<size_t>(n_ctx));
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::out_of_memory,
                "cannot allocate the KV cache for " + std::to_string(n_seq) + " sequence(s) of " +
                    std::to_string(n_ctx) + " positions; lower the context length");
  }
}

std::span<const int32_t> KvCache::tokens(int32_t seq) const noexcept {
  return tokens_[static_cast<size_t>(seq)];
}

size_t KvCache::cell_offset(int32_t seq, int32_t il, int32_t cell) const noexcept {
  const size_t cap = static_cast<size_t>(kind_of(il).capacity);
  return ((static_cast<size_t>(seq) * cap + static_cast<size_t>(cell)) *
          static_cast<size_t>(kv_dim_)) *
         elem_;
}

void KvCache::claim_cells(int32_t seq, int32_t pos, int32_t count) noexcept {
  for (auto* kind : {&global_kind_, &local_kind_}) {
    int32_t* cells = kind->cell_pos.data() + static_cast<size_t>(seq) * kind->capacity;
    for (int32_t p = pos; p < pos + count; ++p) cells[p % kind->capacity] = p;
  }
}

void KvCache::store(int32_t seq, int32_t il, int32_t pos, const float* k, const float* v) noexcept {
  const int32_t cell = pos % kind_of(il).capacity;
  std::byte* kd = k_[static_cast<size_t>(il)].get() + cell_offset(seq, il, cell);
  std::byte* vd = v_[static_cast<size_t>(il)].get() + cell_offset(seq, il, cell);
  if (f16_) {
    auto* k16 = reinterpret_cast<uint16_t*>(kd);
    auto* v16 = reinterpret_cast<uint16_t*>(vd);
    for (int32_t i = 0; i < kv_dim_; ++i) {
      k16[i] = kernels::fp32_to_fp16(k[i]);
      v16[i] = kernels::fp32_to_fp16(v[i]);
    }
  } else {
    std::memcpy(kd, k, static_cast<size_t>(kv_dim_) * 4);
    std::memcpy(vd, v, static_cast<size_t>(kv_dim_) * 4);
  }
}

void KvCache::commit(int32_t seq, int32_t token) noexcept {
  auto& t = tokens_[static_cast<size_t>(seq)];
  t.push_back(token);  // capacity n_ctx was reserved: no allocation
  lengths_[static_cast<size_t>(seq)] = static_cast<int32_t>(t.size());
}

void KvCache::truncate(int32_t seq, int32_t from_pos) noexcept {
  const int32_t old_len = length(seq);
  int32_t keep = std::clamp(from_pos, 0, old_len);
  // The ring of local layers must still hold every position the next query (at `keep`) sees.
  if (window_ > 0 && keep > 0) {
    const int32_t* cells =
        local_kind_.cell_pos.data() + static_cast<size_t>(seq) * local_kind_.capacity;
    for (int32_t p = std::max(0, keep - window_ + 1); p < keep; ++p) {
      if (cells[p % local_kind_.capacity] != p) {
        keep = 0;
        break;
      }
    }
  }
  for (auto* kind : {&global_kind_, &local_kind_}) {
    int32_t* cells = kind->cell_pos.data() + static_cast<size_t>(seq) * kind->capacity;
    for (int32_t c = 0; c < kind->capacity; ++c) {
      if (cells[c] >= keep) cells[c] = -1;
    }
  }
  tokens_[static_cast<size_t>(seq)].resize(static_cast<size_t>(keep));
  lengths_[static_cast<size_t>(seq)] = keep;
}

kernels::KvHeadView KvCache::view(int32_t seq, int32_t il, int32_t kv_head,
                                  int32_t pos) const noexcept {
  const Kind& kind = kind_of(il);
  const size_t base = cell_offset(seq, il, 0) + static_cast<size_t>(kv_head) * head_dim_ * elem_;
  kernels::KvHeadView view;
  view.k = k_[static_cast<size_t>(il)].get() + base;
  view.v = v_[static_cast<size_t>(il)].get() + base;
  view.f16 = f16_;
  view.cell_stride = kv_dim_;
  view.cell_pos = kind.cell_pos.data() + static_cast<size_t>(seq) * kind.capacity;
  view.n_cells = std::min(kind.capacity, pos + 1);
  // A full ring: the oldest position it can hold, pos + 1 - capacity, sits at (pos + 1) % cap.
  view.first_cell = pos + 1 > kind.capacity ? (pos + 1) % kind.capacity : 0;
  return view;
}

}  // namespace inference::engine
