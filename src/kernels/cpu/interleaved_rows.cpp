// kernels/cpu/interleaved_rows.cpp — see interleaved_rows.hpp.
#include "kernels/cpu/interleaved_rows.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/interleaved_k_rows.hpp"

namespace inference::kernels::detail {
namespace {

using formats::GgmlType;

constexpr int64_t kRun = 16;

// Q4_K, Q5_K: interleaved by interleaved_k_rows.cpp, 32-element sub-blocks as the lanes.
bool is_k_super_block(GgmlType type) {
  return type == GgmlType::Q4_K || type == GgmlType::Q5_K;
}

// First element of step s's four quants within a block.
constexpr int step_element(int s) {
  return s < 4 ? 4 * s : 16 + 4 * (s - 4);
}

struct Geometry {
  size_t block_bytes;
  bool min;         // Q4_1, Q5_1: an fp16 min after the scale
  bool fifth_bits;  // Q5_0, Q5_1
  bool eight_bits;  // Q8_0: a byte per quant, stored offset by 128 (unsigned) when interleaved
};

// 4-byte chunks of quants per block: nibble pairs (a chunk holds two steps) or bytes.
constexpr int quant_chunks(const Geometry& g) {
  return g.eight_bits ? 8 : 4;
}

// XOR turning a Q8_0 quant into its unsigned form q + 128 and back (nibbles are unsigned).
constexpr uint32_t quant_flip(const Geometry& g) {
  return g.eight_bits ? 0x80808080u : 0u;
}

Geometry geometry(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_1:
      return {sizeof(BlockQ4_1), true, false, false};
    case GgmlType::Q5_0:
      return {sizeof(BlockQ5_0), false, true, false};
    case GgmlType::Q5_1:
      return {sizeof(BlockQ5_1), true, true, false};
    case GgmlType::Q8_0:
      return {sizeof(BlockQ8_0), false, false, true};
    default:
      return {sizeof(BlockQ4_0), false, false, false};
  }
}

// Blocks of the row in interleaved runs (the rest, at most one block, keeps the file's layout).
int64_t interleaved_blocks(int64_t blocks) {
  return blocks / kRun * kRun + (blocks % kRun) / 2 * 2;
}

// Where a block's fields lie in the file's layout: d, [m], [qh], qs.
struct PlainOffsets {
  size_t m, qh, qs;
};

constexpr PlainOffsets plain_offsets(const Geometry& g) {
  const size_t qh = g.min ? 4 : 2;
  return {2, qh, qh + (g.fifth_bits ? 4 : 0)};
}

// Where a run of c blocks keeps them interleaved: d[c], [m[c]], [fifth bits], quants.
struct RunOffsets {
  size_t m, fifth, quants;
};

constexpr RunOffsets run_offsets(const Geometry& g, int c) {
  const auto n = static_cast<size_t>(c);
  const size_t fifth = 2 * n * (g.min ? 2 : 1);
  return {2 * n, fifth, fifth + (g.fifth_bits ? 4 * n : 0)};
}

// One run of c blocks, file layout at `plain` → interleaved at `out`.
void interleave_run(const uint8_t* plain, uint8_t* out, int c, const Geometry& g) {
  const PlainOffsets p = plain_offsets(g);
  const RunOffsets r = run_offsets(g, c);
  uint8_t* fifth = out + r.fifth;
  if (g.fifth_bits) std::memset(fifth, 0, static_cast<size_t>(4 * c));
  for (int i = 0; i < c; ++i) {
    const uint8_t* b = plain + static_cast<size_t>(i) * g.block_bytes;
    std::memcpy(out + 2 * i, b, 2);
    if (g.min) std::memcpy(out + r.m + 2 * i, b + p.m, 2);
    for (int j = 0; j < quant_chunks(g); ++j) {
      uint32_t chunk;
      std::memcpy(&chunk, b + p.qs + 4 * j, 4);
      chunk ^= quant_flip(g);
      std::memcpy(out + r.quants + 4 * c * j + 4 * i, &chunk, 4);
    }
    if (g.fifth_bits) {
      uint32_t qh;
      std::memcpy(&qh, b + p.qh, 4);
      for (int s = 0; s < 8; ++s) {
        const uint32_t bits = (qh >> step_element(s)) & 0xFu;
        const int bit = 4 * i;  // of the step's c/2 bytes
        fifth[s * (c / 2) + bit / 8] |= static_cast<uint8_t>(bits << (bit % 8));
      }
    }
  }
}

// The inverse of interleave_run, with the format's fields fixed at compile time: the prompt
// GEMM lays interleaved rows back out for every chunk of a prompt, so this is on a hot path.
template <bool kMin, bool kFifthBits, bool kEightBits = false>
void deinterleave_run(const uint8_t* run, uint8_t* plain, int c) {
  constexpr Geometry g{kEightBits   ? sizeof(BlockQ8_0)
                       : kFifthBits ? (kMin ? sizeof(BlockQ5_1) : sizeof(BlockQ5_0))
                                    : (kMin ? sizeof(BlockQ4_1) : sizeof(BlockQ4_0)),
                       kMin, kFifthBits, kEightBits};
  const PlainOffsets p = plain_offsets(g);
  const RunOffsets r = run_offsets(g, c);
  const uint8_t* fifth = run + r.fifth;
  for (int i = 0; i < c; ++i) {
    uint8_t* b = plain + static_cast<size_t>(i) * g.block_bytes;
    std::memcpy(b, run + 2 * i, 2);
    if constexpr (kMin) std::memcpy(b + p.m, run + r.m + 2 * i, 2);
    for (int j = 0; j < quant_chunks(g); ++j) {
      uint32_t chunk;
      std::memcpy(&chunk, run + r.quants + 4 * c * j + 4 * i, 4);
      chunk ^= quant_flip(g);
      std::memcpy(b + p.qs + 4 * j, &chunk, 4);
    }
    if constexpr (kFifthBits) {
      uint32_t qh = 0;
      const int shift = 4 * (i % 2);
      for (int s = 0; s < 8; ++s) {
        const uint32_t bits = (fifth[s * (c / 2) + i / 2] >> shift) & 0xFu;
        qh |= bits << step_element(s);
      }
      std::memcpy(b + p.qh, &qh, 4);
    }
  }
}

template <typename Fn>
void for_each_run(int64_t blocks, size_t block_bytes, Fn&& fn) {
  const int64_t total = interleaved_blocks(blocks);
  for (int64_t b = 0; b < total; b += kRun) {
    fn(static_cast<size_t>(b) * block_bytes, static_cast<int>(std::min(kRun, total - b)));
  }
}

}  // namespace

bool has_interleaved_form(GgmlType type) noexcept {
  return type == GgmlType::Q4_0 || type == GgmlType::Q4_1 || type == GgmlType::Q5_0 ||
         type == GgmlType::Q5_1 || type == GgmlType::Q8_0 || is_k_super_block(type);
}

size_t interleaved_activation_bytes(int64_t blocks) noexcept {
  return static_cast<size_t>((blocks + kRun - 1) / kRun) * 512;
}

void interleave_row(GgmlType type, void* row, int64_t blocks) noexcept {
  if (is_k_super_block(type)) return interleave_k_row(type == GgmlType::Q5_K, row, blocks / 8);
  const Geometry g = geometry(type);
  std::array<uint8_t, kRun * sizeof(BlockQ8_0)> run{};
  auto* bytes = static_cast<uint8_t*>(row);
  for_each_run(blocks, g.block_bytes, [&](size_t offset, int c) {
    interleave_run(bytes + offset, run.data(), c, g);
    std::memcpy(bytes + offset, run.data(), static_cast<size_t>(c) * g.block_bytes);
  });
}

void deinterleave_row(GgmlType type, const void* row, void* out, int64_t blocks) noexcept {
  if (is_k_super_block(type)) {
    return deinterleave_k_row(type == GgmlType::Q5_K, row, out, blocks / 8);
  }
  const Geometry g = geometry(type);
  const auto* in = static_cast<const uint8_t*>(row);
  auto* plain = static_cast<uint8_t*>(out);
  const int64_t total = interleaved_blocks(blocks);
  for_each_run(blocks, g.block_bytes, [&](size_t offset, int c) {
    if (g.eight_bits) {
      deinterleave_run<false, false, true>(in + offset, plain + offset, c);
    } else if (g.min) {
      if (g.fifth_bits) {
        deinterleave_run<true, true>(in + offset, plain + offset, c);
      } else {
        deinterleave_run<true, false>(in + offset, plain + offset, c);
      }
    } else if (g.fifth_bits) {
      deinterleave_run<false, true>(in + offset, plain + offset, c);
    } else {
      deinterleave_run<false, false>(in + offset, plain + offset, c);
    }
  });
  const size_t done = static_cast<size_t>(total) * g.block_bytes;
  std::memcpy(plain + done, in + done, static_cast<size_t>(blocks - total) * g.block_bytes);
}

void transpose_activation_runs(const int8_t* quants, int8_t* out, int64_t blocks,
                               bool packed_partial) noexcept {
  std::memset(out, 0, interleaved_activation_bytes(blocks));
  const int64_t full = blocks / kRun * kRun;
  // The lanes of the partial run: its blocks rounded down to an even count.
  const int64_t partial = (blocks - full) / 2 * 2;
  // The partial runs the AVX-512 kernel reads packed (gemv_interleaved_avx512.cpp, run_dots).
  const bool packed = packed_partial && (partial == 4 || partial == 8);
  const int64_t step_bytes = packed ? 4 * partial : 64;
  // The odd last block is read from the contiguous quants: it has no lane.
  for (int64_t b = 0; b < full + partial; ++b) {
    const int64_t run = b / kRun, lane = b % kRun;
    const int64_t stride = b < full ? 64 : step_bytes;
    for (int s = 0; s < 8; ++s) {
      std::memcpy(out + 512 * run + stride * s + 4 * lane, quants + 32 * b + step_element(s), 4);
    }
  }
}

}  // namespace inference::kernels::detail
