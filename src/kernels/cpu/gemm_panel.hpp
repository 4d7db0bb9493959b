// kernels/cpu/gemm_panel.hpp — the prefill GEMM's working form of a block of weight rows.
//
// Prefill multiplies every weight row by hundreds of tokens, so it pays to unpack a block of rows
// once into a form the integer units consume directly, instead of decoding each block again for
// every few tokens (the dot-product tiles do that). The panel form is the same for every block
// format: each row is cut into groups of `group` elements (32, or 16 where the format keeps a
// scale per 16), each group holds unsigned 8-bit quants q and two floats per row such that
//     weight = scale * q - min
// exactly as the format's dequantisation computes it (Q4_K: scale = d*sc, min = dmin*m; Q8_0:
// q = x + 128, min = 128*d; Q6_K: min = 32*scale; Q4_1: min = -m; …).
//
// Rows come in sub-panels of 16 — the int32 lanes of one 512-bit vector — and a group's quants
// are interleaved four bytes at a time: quants[sub][group][k][lane][4] holds elements 4k..4k+3
// of row 16*sub+lane. One vector load then feeds 16 rows to a dot-product instruction whose
// other operand is 4 activation bytes broadcast to all lanes, so results land in the lanes of
// their rows and nothing has to be reduced horizontally.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_types.hpp"

namespace inference::kernels::detail {

inline constexpr int kPanelLanes = 16;  ///< rows per sub-panel

/// Elements per group of the panel form of `type`; 0 if it has none.
int panel_group(formats::GgmlType type) noexcept;

/// How a panel holds its quants. The prompt GEMM unpacks into `bytes`; packed weights keep the
/// smaller forms of packed_panel.hpp where a format's quants fit them.
enum class PanelQuants : uint8_t {
  bytes,              ///< [sub][group][group/4][16][4], one byte per quant
  nibbles,            ///< [sub][group][group/8][16][4]: low nibble k-step j, high j + group/8
  nibbles_fifth_bit,  ///< nibbles, plus `fifth`: each quant's bit 4
};

/// A block of rows in panel form. Pointers into caller-owned memory (see panel_bytes()).
struct Panel {
  uint8_t* quants = nullptr;  ///< laid out as `form` says
  uint64_t* fifth = nullptr;  ///< nibbles_fifth_bit: [sub][group][group/4], bit 4·lane + i
  float* scale = nullptr;     ///< [sub][group][16]
  float* min = nullptr;       ///< [sub][group][16]; null: min = min_per_scale * scale
  float min_per_scale = 0;
  PanelQuants form = PanelQuants::bytes;
  int group = 0;       ///< elements per group
  int64_t groups = 0;  ///< groups per row
  int64_t subpanels = 0;
};

/// n rounded up to 64: every part of a panel (and of a packed panel) starts on a cache line.
size_t panel_align(size_t n) noexcept;

/// Bytes a panel of `rows` rows (rounded up to 16) of `cols` columns needs, 64-byte aligned parts.
size_t panel_bytes(formats::GgmlType type, int64_t rows, int64_t cols) noexcept;

/// Lays out a panel in `memory` (64-byte aligned, panel_bytes() long) for `rows` rows.
Panel make_panel(formats::GgmlType type, int64_t rows, int64_t cols, void* memory) noexcept;

/// Unpacks `rows` rows starting at `w` (`row_bytes` apart) into `panel`; rows up to the next
/// multiple of 16 are zero. `type` must have a panel form and cols be whole groups and blocks.
void unpack_panel(formats::GgmlType type, const void* w, size_t row_bytes, int64_t rows,
                  int64_t cols, Panel& panel) noexcept;

/// The same, by one SIMD level (KernelTable::unpack_panel), for the types it lists; equal bits.
using PanelUnpackFn = void (*)(formats::GgmlType type, const void* w, size_t row_bytes,
                               int64_t rows, int64_t cols, Panel& panel);

/// Tokens interleaved per group in the GEMM's copy of the activations.
inline constexpr int kActTile = 8;

/// The quantised activations as the GEMM reads them: for each tile of 8 tokens and each group,
/// the 8 tokens' int8 quants of that group back to back, and their scales and scaled sums, so
/// a kernel reaches every token of a tile at a fixed offset from one pointer. Slots past the
/// last token are zero. (Plain data only: SIMD files must not share inline functions with the
/// rest, see the ODR note in vec_dot_avx512.cpp.)
struct ActivationPlane {
  const int8_t* quants = nullptr;  ///< [tile][group][8][group elements]
  const float* scale = nullptr;    ///< [tile][group][8]: activation scale
  const float* sum = nullptr;      ///< [tile][group][8]: scale * sum of the group's quants
  int64_t groups = 0;
};

/// y[t * y_stride + r] = sum over groups of the panel row r against token t, for t < n_tokens
/// and r < valid_rows. One SIMD level's implementation (see KernelTable::gemm_panel).
using GemmPanelFn = void (*)(const Panel& panel, const ActivationPlane& act, int64_t n_tokens,
                             int64_t valid_rows, float* y, int64_t y_stride);

}  // namespace inference::kernels::detail
