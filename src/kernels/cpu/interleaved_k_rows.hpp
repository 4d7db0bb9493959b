// kernels/cpu/interleaved_k_rows.hpp — Q4_K and Q5_K rows in the interleaved layout: the
// super-block formats laid out like Q4_1/Q5_1 runs (interleaved_rows.hpp), one 32-element
// sub-block per 32-bit lane, so the interleaved row kernels read them with the same eight
// vpdpbusd per run and take each lane's scale and min from the run's header.
//
// A run holds s = 2 super-blocks (16 lanes; a row's odd last super-block is a run of s = 1,
// 8 lanes) in exactly their 144·s (Q4_K) or 176·s (Q5_K) bytes:
//  - d[s], dmin[s]: the super-blocks' fp16 scales, then their fp16 mins' scales (4s bytes);
//  - 8s bytes, lane j: its 6-bit scale sc_j in bits 0-5, the low two bits of its 6-bit min m_j
//    in bits 6-7; then 4s bytes holding m_j >> 2 as nibble j (low nibble first): the 12 bytes
//    of 6-bit scales and mins per super-block (k_scales.hpp), rearranged so that lane j's pair
//    is found at j, not by the GGUF packing's per-sub-block case split;
//  - Q5_K: for step t = 0..7, 4s bytes of fifth bits (bit 4j + b: quant b of lane j's step);
//  - quants: for k = 0..3, 32s bytes: lane j's bytes at 4j, low nibbles its elements
//    4k..4k+3, high nibbles 16+4k..16+4k+3 (the Q4_0 run's order, so the activations are
//    transposed the same way: transpose_activation_runs over 32-element groups).
// Lane j = 8·(super-block) + (sub-block); weight = d·sc_j·q − dmin·m_j.
//
// (Q6_K stays in the file's layout: its 16-element sub-blocks' sums do not fit the 16-bit
// products the file-layout kernel applies its scales with, and lane-per-sub-block float scaling
// measured slower than that kernel — docs/PERFORMANCE.md.)
#pragma once

#include <cstdint>

namespace inference::kernels::detail {

/// Rewrites a Q4_K (kFive = false) or Q5_K row of `superblocks` super-blocks in place.
void interleave_k_row(bool five, void* row, int64_t superblocks) noexcept;

/// Writes the file's layout of an interleaved Q4_K/Q5_K row to `out` (not overlapping).
void deinterleave_k_row(bool five, const void* row, void* out, int64_t superblocks) noexcept;

}  // namespace inference::kernels::detail
