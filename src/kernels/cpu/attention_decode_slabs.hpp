// kernels/cpu/attention_decode_slabs.hpp — the skeleton both SIMD decode-attention kernels share
// (attention_decode_avx2.cpp, attention_decode_avx512.cpp): the block's cells, the slabs of up
// to 8 query heads, the chunking of the value columns to the register file, the scratch layout
// and the dispatch on the cache's element type. The vector work is the including file's `Isa`:
//
//   struct Isa {
//     static constexpr int kTile;            // cells per vector of scores (lanes)
//     static constexpr int kValueRegisters;  // value accumulators that fit with the row chunk
//     static void visibility(const DecodeQueries&, int32_t n_cells_in_block, const KvHeadView&,
//                            BlockCells<kTile>&);  // fills visible[]
//     static void round_queries(const float* q, int32_t n, bool to_f16, float* out);
//     template <Element, int HN> static void key_scores(const BlockCells<kTile>&, const float* q,
//         int32_t hd, float scale, float* dots, float* scores, size_t stride);
//     template <Element, int HN, int NC> static void value_chunk(const BlockCells<kTile>&,
//         const float* weight, size_t stride, int32_t hd, int32_t c0, float* out);
//     static void softmax_weights(const BlockCells<kTile>&, float* s, float* max, float* sum);
//   };
//
// Everything here is in an anonymous namespace: each including file, compiled with its own SIMD
// flags, gets its own copy (the ODR rule of the SIMD files).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/cpu/attention_decode.hpp"

namespace inference::kernels::detail {
namespace {

enum class Element { f32, f16, q8_0 };

// Where the cells of one block live and which of them the query sees (bit j of visible[t]:
// cell j of tile t).
template <int Tile>
struct BlockCells {
  static constexpr int kTiles = kDecodeBlockCells / Tile;
  const std::byte* k_base;
  const std::byte* v_base;
  size_t cell_bytes;
  int32_t first;  // cell of block index 0 (ring index i0)
  int32_t n_cells;
  int32_t n_tiles;
  uint32_t visible[kTiles];

  const std::byte* key(int32_t t, int32_t j) const { return k_base + offset(t, j); }
  const std::byte* value(int32_t t, int32_t j) const { return v_base + offset(t, j); }
  size_t offset(int32_t t, int32_t j) const {
    int32_t c = first + t * Tile + j;
    if (c >= n_cells) c -= n_cells;
    return static_cast<size_t>(c) * cell_bytes;
  }
  // Cell of the first element of tile t.
  int32_t tile_cell(int32_t t) const {
    const int32_t c = first + t * Tile;
    return c >= n_cells ? c - n_cells : c;
  }
};

template <class Isa>
BlockCells<Isa::kTile> block_cells(const DecodeQueries& qs, const KvHeadView& kv, int32_t i0,
                                   int32_t i1) {
  BlockCells<Isa::kTile> b;
  b.k_base = static_cast<const std::byte*>(kv.k);
  b.v_base = static_cast<const std::byte*>(kv.v);
  b.cell_bytes = kv_cell_bytes(kv);
  b.first = kv.first_cell + i0 >= kv.n_cells ? kv.first_cell + i0 - kv.n_cells : kv.first_cell + i0;
  b.n_cells = kv.n_cells;
  b.n_tiles = (i1 - i0 + Isa::kTile - 1) / Isa::kTile;
  Isa::visibility(qs, i1 - i0, kv, b);
  return b;
}

// The whole rows of out for HN heads, in chunks of 8, 4, 2 or 1 vectors that fit the register
// file together with the heads' accumulators.
template <class Isa, Element E, int HN>
void weighted_values(const BlockCells<Isa::kTile>& b, const float* weight, size_t stride,
                     int32_t hd, float* out) {
  constexpr int kLanes = Isa::kTile;
  const int32_t vecs = hd / kLanes;
  for (int32_t c0 = 0; c0 < vecs;) {
    const int32_t left = vecs - c0;
    if constexpr (HN * 8 <= Isa::kValueRegisters) {
      if (left >= 8) {
        Isa::template value_chunk<E, HN, 8>(b, weight, stride, hd, c0, out);
        c0 += 8;
        continue;
      }
    }
    if constexpr (HN * 4 <= Isa::kValueRegisters) {
      if (left >= 4) {
        Isa::template value_chunk<E, HN, 4>(b, weight, stride, hd, c0, out);
        c0 += 4;
        continue;
      }
    }
    if constexpr (HN * 2 <= Isa::kValueRegisters) {
      if (left >= 2) {
        Isa::template value_chunk<E, HN, 2>(b, weight, stride, hd, c0, out);
        c0 += 2;
        continue;
      }
    }
    Isa::template value_chunk<E, HN, 1>(b, weight, stride, hd, c0, out);
    c0 += 1;
  }
}

template <class Isa, Element E, int HN>
void attend_slab(const BlockCells<Isa::kTile>& b, const float* q, int32_t hd, float scale,
                 float* dots, float* scores, size_t stride, const AttentionPartial& partial,
                 int32_t h0) {
  Isa::template key_scores<E, HN>(b, q + static_cast<size_t>(h0) * hd, hd, scale, dots, scores,
                                  stride);
  for (int h = 0; h < HN; ++h) {
    Isa::softmax_weights(b, scores + h * stride, partial.max + h0 + h, partial.sum + h0 + h);
  }
  weighted_values<Isa, E, HN>(b, scores, stride, hd, partial.out + static_cast<size_t>(h0) * hd);
}

// attend_slab<Isa, E, n> at index n - 1, for every slab size n.
template <class Isa, Element E, int... N>
constexpr auto slab_kernels(std::integer_sequence<int, N...>) {
  return std::array{&attend_slab<Isa, E, N + 1>...};
}

template <class Isa, Element E>
void attend_slabs(const BlockCells<Isa::kTile>& b, const float* q, int32_t heads, int32_t hd,
                  float scale, float* dots, float* scores, size_t stride,
                  const AttentionPartial& partial) {
  static constexpr auto kSlab =
      slab_kernels<Isa, E>(std::make_integer_sequence<int, kDecodeSlabHeads>{});
  for (int32_t h0 = 0; h0 < heads; h0 += kDecodeSlabHeads) {
    const int32_t hn = heads - h0 < kDecodeSlabHeads ? heads - h0 : kDecodeSlabHeads;
    kSlab[static_cast<size_t>(hn - 1)](b, q, hd, scale, dots, scores + h0 * stride, stride, partial,
                                       h0);
  }
}

inline float* align64(float* p) {
  return p + (16 - reinterpret_cast<uintptr_t>(p) / sizeof(float) % 16) % 16;
}

// attend_decode_block by one SIMD level.
template <class Isa>
void attend_block(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv, int32_t i0, int32_t i1,
                  float* scratch, const AttentionPartial& partial) {
  static_assert(kDecodeSlabHeads * Isa::kTile * Isa::kTile <= kDecodeSlabDotFloats);
  const int32_t heads = qs.n_heads;
  const BlockCells<Isa::kTile> b = block_cells<Isa>(qs, kv, i0, i1);
  // Scores are kept for whole tiles (padding -inf), so every loop runs on full vectors. The
  // dots hold a tile's per-cell vectors of one slab of heads.
  const size_t stride = static_cast<size_t>(b.n_tiles) * Isa::kTile;
  float* scores = align64(scratch);                                  // [heads][stride]
  float* q = align64(scores + static_cast<size_t>(heads) * stride);  // [heads][hd]
  float* dots = align64(q + static_cast<size_t>(heads) * hd);
  // An F16 cache is multiplied with the query rounded to F16, as the reference's F16 matmul.
  Isa::round_queries(qs.q, heads * hd, kv.f16, q);
  if (kv.q8_0) {
    attend_slabs<Isa, Element::q8_0>(b, q, heads, hd, qs.scale, dots, scores, stride, partial);
  } else if (kv.f16) {
    attend_slabs<Isa, Element::f16>(b, q, heads, hd, qs.scale, dots, scores, stride, partial);
  } else {
    attend_slabs<Isa, Element::f32>(b, q, heads, hd, qs.scale, dots, scores, stride, partial);
  }
}

}  // namespace
}  // namespace inference::kernels::detail
