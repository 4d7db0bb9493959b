// engine/kv_cache.cpp — see kv_cache.hpp.
#include "engine/kv_cache.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "inference/error.hpp"
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/fp16.hpp"

namespace inference::engine {

std::optional<KvElement> kv_element_from_name(std::string_view name) noexcept {
  if (name == "f32") return KvElement::f32;
  if (name == "f16") return KvElement::f16;
  if (name == "q8_0") return KvElement::q8_0;
  return std::nullopt;
}

KvCache::KvCache(const HParams& hp, int32_t n_seq, int32_t n_ctx, int32_t max_batch, KvElement type)
    : n_seq_(n_seq),
      n_ctx_(n_ctx),
      n_head_kv_(hp.n_head_kv),
      head_dim_(hp.head_dim),
      window_(hp.sliding_window),
      type_(type) {
  if (type == KvElement::q8_0 && hp.head_dim % 32 != 0) {
    throw Error(ErrorCode::unsupported,
                "a q8_0 KV cache needs a head size that is a multiple "
                "of 32 (this model's is " +
                    std::to_string(hp.head_dim) + "); use f16");
  }
  row_bytes_ = type == KvElement::q8_0  ? kernels::q8_0_row_bytes(head_dim_)
               : type == KvElement::f16 ? static_cast<size_t>(head_dim_) * 2
                                        : static_cast<size_t>(head_dim_) * 4;
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
      const size_t n = layer_bytes(il);
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

void KvCache::prefault() noexcept {
  for (auto* layers : {&k_, &v_}) {
    for (size_t il = 0; il < layers->size(); ++il)
      std::memset((*layers)[il].get(), 0, layer_bytes(static_cast<int32_t>(il)));
  }
}

std::span<const int32_t> KvCache::tokens(int32_t seq) const noexcept {
  return tokens_[static_cast<size_t>(seq)];
}

size_t KvCache::cell_offset(int32_t seq, int32_t il, int32_t kv_head, int32_t cell) const noexcept {
  const size_t cap = static_cast<size_t>(kind_of(il).capacity);
  return ((static_cast<size_t>(seq) * static_cast<size_t>(n_head_kv_) +
           static_cast<size_t>(kv_head)) *
              cap +
          static_cast<size_t>(cell)) *
         row_bytes_;
}

uint64_t KvCache::bytes_read_at(int32_t pos) const noexcept {
  uint64_t cells = 0;
  for (size_t il = 0; il < local_.size(); ++il) {
    cells += static_cast<uint64_t>(std::min(kind_of(static_cast<int32_t>(il)).capacity, pos + 1));
  }
  return cells * 2 * static_cast<uint64_t>(n_head_kv_) * row_bytes_;
}

void KvCache::store_row(const float* x, std::byte* out) const noexcept {
  switch (type_) {
    case KvElement::q8_0:
      kernels::quantize_row_q8_0_kv(x, out, head_dim_);
      break;
    case KvElement::f16: {
      auto* h = reinterpret_cast<uint16_t*>(out);
      for (int32_t i = 0; i < head_dim_; ++i) h[i] = kernels::fp32_to_fp16(x[i]);
      break;
    }
    case KvElement::f32:
      std::memcpy(out, x, static_cast<size_t>(head_dim_) * 4);
      break;
  }
}

void KvCache::claim_cells(int32_t seq, int32_t pos, int32_t count) noexcept {
  for (auto* kind : {&global_kind_, &local_kind_}) {
    int32_t* cells = kind->cell_pos.data() + static_cast<size_t>(seq) * kind->capacity;
    for (int32_t p = pos; p < pos + count; ++p) cells[p % kind->capacity] = p;
  }
}

void KvCache::store(int32_t seq, int32_t il, int32_t pos, const float* k, const float* v) noexcept {
  const int32_t cell = pos % kind_of(il).capacity;
  for (int32_t h = 0; h < n_head_kv_; ++h) {
    const size_t off = cell_offset(seq, il, h, cell);
    store_row(k + static_cast<size_t>(h) * head_dim_, k_[static_cast<size_t>(il)].get() + off);
    store_row(v + static_cast<size_t>(h) * head_dim_, v_[static_cast<size_t>(il)].get() + off);
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
  const size_t base = cell_offset(seq, il, kv_head, 0);
  kernels::KvHeadView view;
  view.k = k_[static_cast<size_t>(il)].get() + base;
  view.v = v_[static_cast<size_t>(il)].get() + base;
  view.f16 = type_ == KvElement::f16;
  view.q8_0 = type_ == KvElement::q8_0;
  view.cell_stride = head_dim_;
  view.cell_pos = kind.cell_pos.data() + static_cast<size_t>(seq) * kind.capacity;
  view.n_cells = std::min(kind.capacity, pos + 1);
  // A full ring: the oldest position it can hold, pos + 1 - capacity, sits at (pos + 1) % cap.
  view.first_cell = pos + 1 > kind.capacity ? (pos + 1) % kind.capacity : 0;
  return view;
}

}  // namespace inference::engine
