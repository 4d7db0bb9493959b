// kernels/cpu/packed_panel.hpp — the smaller panel forms that packed weights keep.
//
// The prompt GEMM unpacks a block of rows into a byte panel (gemm_panel.hpp) on every call; the
// panel then sits in L2 and the tile is bound by its multiply-adds, so bytes are right there.
// Packed weights (PackedPanels) stream their panels from memory on every batched decode step
// instead, where bytes are the cost: a byte panel is 1.25 bytes per weight, more than the file's
// Q4/Q5 blocks. These forms hold the same quants and scales in fewer bytes:
//  - 4-bit quants (Q4_0, Q4_1, Q4_K) as nibbles: 64-byte vector j of a group holds k-step j in
//    its low nibbles and k-step j + group/8 in its high ones (PanelQuants::nibbles);
//  - 5-bit quants (Q5_0, Q5_1, Q5_K) the same, plus per k-step a 64-bit mask of the quants'
//    fifth bits in the vector's byte order (PanelQuants::nibbles_fifth_bit);
//  - where a format's min is a fixed multiple of its scale (Q8_0: 128, Q6_K: 32, Q5_0: 16,
//    Q4_0: 8; powers of two, so the product is exact) no min array (Panel::min_per_scale).
// The kernel rebuilds the byte quants in registers; the int32 sums and the float epilogue are
// the byte panel's, so a packed product keeps the prompt path's bits. Q4_0/Q5_0 come to 0.75
// bytes per weight, Q8_0 to 1.125, Q6_K to 1.25 (from 1.5).
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_types.hpp"
#include "kernels/cpu/gemm_panel.hpp"

namespace inference::kernels::detail {

/// The quant form packed panels of `type` take.
PanelQuants packed_panel_quants(formats::GgmlType type) noexcept;

/// min / scale for every group of `type`, or 0 where the format stores its own min.
float panel_min_per_scale(formats::GgmlType type) noexcept;

/// Bytes a packed panel of `rows` rows (rounded up to 16) of `cols` columns needs.
size_t packed_panel_bytes(formats::GgmlType type, int64_t rows, int64_t cols) noexcept;

/// Lays out a packed panel in `memory` (64-byte aligned, packed_panel_bytes() long).
Panel make_packed_panel(formats::GgmlType type, int64_t rows, int64_t cols, void* memory) noexcept;

/// Copies the byte panel `full` into the packed panel `out` (same type and shape). False, with
/// `out` partly written, if a quant does not fit out's form or a min is not min_per_scale times
/// its scale: the caller then keeps byte panels.
bool compact_panel(const Panel& full, Panel& out) noexcept;

}  // namespace inference::kernels::detail
