// kernels/cpu/interleaved_rows.hpp — Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 rows with runs of 16
// blocks interleaved, the layout the interleaved row-vector kernels (gemv_interleaved_*.cpp) read.
//
// In a file's layout a 32-element block keeps its scale, fifth bits and nibbles together, so a
// 512-bit vector of quants spans two blocks and every pair of blocks needs its own conversion,
// scale permute and multiply-add. Interleaved, each 32-bit lane of a vector holds four quants of
// one of 16 blocks: eight vpdpbusd over a run accumulate each block's whole integer dot product
// in its own lane, then one conversion and one multiply-add serve all 16 blocks.
//
// A row of nb blocks: nb / 16 full runs, then a partial run of the remaining blocks rounded down
// to an even count, then (if nb % 16 is odd) one block as the file has it. Each run of c blocks
// takes exactly the bytes of its c blocks, so row_bytes and every run's offset stay the file's:
//  - d:      c fp16 scales (2c bytes);
//  - Q4_1/Q5_1: c fp16 mins (2c bytes);
//  - Q5_0/Q5_1: for step s = 0..7, the fifth bits of the step's quants (c / 2 bytes: bit 4i + k is
//            quant k of block i);
//  - quants: for j = 0..3, 4c bytes: block i's bytes qs[4j .. 4j+3] at 4i. Low nibbles are step
//            j (elements 4j..4j+3), high nibbles step 4 + j (elements 16+4j..16+4j+3).
//            Q8_0: for j = 0..7 (step j), block i's qs[4j .. 4j+3] XOR 0x80 at 4i — the quants
//            as unsigned q + 128, the operand vpdpbusd multiplies (the kernel subtracts
//            128 · d · Σa per block, as Q4_0's subtracts 8 · d · Σa).
// The activation side (transpose_activation_runs) puts the matching 4 quants of each block in the
// same lane: per run 512 bytes, step s at 64·s.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_types.hpp"

namespace inference::kernels::detail {

/// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, and Q4_K/Q5_K (interleaved_k_rows.hpp; a row's `blocks` below
/// are its 32-element sub-blocks): the types with an interleaved layout.
bool has_interleaved_form(formats::GgmlType type) noexcept;

/// Bytes of transposed activations one token needs for a row of `blocks` 32-element blocks (512
/// per run, partial runs included).
size_t interleaved_activation_bytes(int64_t blocks) noexcept;

/// Rewrites one row of `blocks` 32-element blocks of `type` in place from the file's layout to the
/// interleaved one.
void interleave_row(formats::GgmlType type, void* row, int64_t blocks) noexcept;

/// Writes the file's layout of an interleaved row to `out` (row_bytes long, not overlapping).
void deinterleave_row(formats::GgmlType type, const void* row, void* out, int64_t blocks) noexcept;

/// One token's contiguous activation quants (blocks × 32) in the runs' lane order, into `out`
/// (interleaved_activation_bytes(blocks)); lanes past a partial run's blocks are zero. With
/// `packed_partial`, a partial run of c = 4 or 8 blocks keeps step s at 4c·s instead of 64·s —
/// the order of the weights' own chunks, so that one 64-byte vector holds 16 / c steps of it (a
/// Gemma-3 row of 1,152 columns ends in such a run of 4, which otherwise costs a whole run).
void transpose_activation_runs(const int8_t* quants, int8_t* out, int64_t blocks,
                               bool packed_partial = false) noexcept;

}  // namespace inference::kernels::detail
