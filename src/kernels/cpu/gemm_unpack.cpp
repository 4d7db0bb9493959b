// kernels/cpu/gemm_unpack.cpp — block formats into the prefill GEMM's panel form (gemm_panel.hpp).
//
// Every format is decoded four elements at a time as one 32-bit word (the unit the panel
// interleaves), with the bit tricks the layouts allow: nibbles by masking, the fifth/sixth bits
// by shifting whole words. This runs once per block of rows per prefill matmul, so it only has
// to be cheap next to the hundreds of token products that follow, not vectorised.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/gemm_panel.hpp"
#include "kernels/cpu/k_scales.hpp"

namespace inference::kernels::detail {
namespace {

using formats::GgmlType;

uint32_t load32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

constexpr uint32_t kLowNibbles = 0x0F0F0F0Fu;

// Bit i of a nibble -> 0x10 in byte i: the fifth bit of 4 consecutive Q5_0/Q5_1 elements.
constexpr uint32_t fifth_bits(uint32_t nibble) noexcept {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= ((nibble >> i) & 1u) << (8 * i + 4);
  return v;
}
constexpr uint32_t kFifthBits[16] = {
    fifth_bits(0),  fifth_bits(1),  fifth_bits(2),  fifth_bits(3), fifth_bits(4),  fifth_bits(5),
    fifth_bits(6),  fifth_bits(7),  fifth_bits(8),  fifth_bits(9), fifth_bits(10), fifth_bits(11),
    fifth_bits(12), fifth_bits(13), fifth_bits(14), fifth_bits(15)};

// Writes one row's groups into its lane of a sub-panel.
class RowWriter {
 public:
  RowWriter(Panel& p, int64_t row)
      : quants_(p.quants + (row / kPanelLanes) * p.groups * p.group * kPanelLanes +
                (row % kPanelLanes) * 4),
        scale_(p.scale + (row / kPanelLanes) * p.groups * kPanelLanes + row % kPanelLanes),
        min_(p.min + (row / kPanelLanes) * p.groups * kPanelLanes + row % kPanelLanes),
        group_(p.group) {}

  /// Elements 4k..4k+3 of group g.
  void quad(int64_t g, int k, uint32_t q) noexcept {
    std::memcpy(quants_ + (g * group_ / 4 + k) * kPanelLanes * 4, &q, 4);
  }
  void scale_min(int64_t g, float scale, float min) noexcept {
    scale_[g * kPanelLanes] = scale;
    min_[g * kPanelLanes] = min;
  }

 private:
  uint8_t* quants_;
  float* scale_;
  float* min_;
  int group_;
};

// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins; Q5_K adds a fifth bit per
// element from qh (bit s of byte l belongs to element 32s + l).
template <typename Block, bool kFive>
void row_q45_k(const Block* x, int64_t nb, RowWriter& out) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k4_scale_min(j, x[b].scales, &sc, &m);
      out.scale_min(8 * b + j, d * static_cast<float>(sc), dmin * static_cast<float>(m));
    }
    for (int c = 0; c < 4; ++c) {
      for (int k = 0; k < 8; ++k) {
        const uint32_t w = load32(x[b].qs + 32 * c + 4 * k);
        uint32_t lo = w & kLowNibbles, hi = (w >> 4) & kLowNibbles;
        if constexpr (kFive) {
          const uint32_t h = load32(x[b].qh + 4 * k);
          lo |= ((h >> (2 * c)) & 0x01010101u) << 4;
          hi |= ((h >> (2 * c + 1)) & 0x01010101u) << 4;
        }
        out.quad(8 * b + 2 * c, k, lo);
        out.quad(8 * b + 2 * c + 1, k, hi);
      }
    }
  }
}

void row_q6_k(const BlockQ6_K* x, int64_t nb, RowWriter& out) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < 16; ++j) {
      const float scale = d * static_cast<float>(x[b].scales[j]);
      out.scale_min(16 * b + j, scale, 32.f * scale);  // q - 32, and 32 * scale is exact
    }
    // Element 128h + 32q + l: low 4 bits from ql[64h + 32(q%2) + l] (nibble q/2), high 2 bits
    // from qh[32h + l] (bits 2q, 2q+1).
    for (int h = 0; h < 2; ++h) {
      for (int q = 0; q < 4; ++q) {
        for (int k = 0; k < 8; ++k) {
          const uint32_t lo = load32(x[b].ql + 64 * h + 32 * (q % 2) + 4 * k);
          const uint32_t hi = load32(x[b].qh + 32 * h + 4 * k);
          const uint32_t v =
              ((lo >> (4 * (q / 2))) & kLowNibbles) | (((hi >> (2 * q)) & 0x03030303u) << 4);
          out.quad(16 * b + 8 * h + 2 * q + k / 4, k % 4, v);
        }
      }
    }
  }
}

void row_q8_0(const BlockQ8_0* x, int64_t nb, RowWriter& out) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    out.scale_min(b, d, 128.f * d);  // signed x stored as x + 128
    for (int k = 0; k < 8; ++k) {
      out.quad(b, k, load32(reinterpret_cast<const uint8_t*>(x[b].qs) + 4 * k) ^ 0x80808080u);
    }
  }
}

// Q4_0/Q4_1/Q5_0/Q5_1: element j in the low nibble of qs[j], element j+16 in the high nibble;
// Q5 formats take bit j of qh as element j's fifth bit.
template <typename Block, bool kFive, bool kMin>
void row_q32(const Block* x, int64_t nb, RowWriter& out) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    if constexpr (kMin) {
      out.scale_min(b, d, -fp16_to_fp32(x[b].m));
    } else {
      out.scale_min(b, d, (kFive ? 16.f : 8.f) * d);
    }
    uint32_t qh = 0;
    if constexpr (kFive) qh = load32(x[b].qh);
    for (int k = 0; k < 4; ++k) {
      const uint32_t w = load32(x[b].qs + 4 * k);
      uint32_t lo = w & kLowNibbles, hi = (w >> 4) & kLowNibbles;
      if constexpr (kFive) {
        lo |= kFifthBits[(qh >> (4 * k)) & 0xF];
        hi |= kFifthBits[(qh >> (16 + 4 * k)) & 0xF];
      }
      out.quad(b, k, lo);
      out.quad(b, k + 4, hi);
    }
  }
}

}  // namespace

size_t panel_align(size_t n) noexcept {
  return (n + 63) & ~size_t{63};
}

int panel_group(GgmlType type) noexcept {
  switch (type) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
      return 32;
    case GgmlType::Q6_K:
      return 16;
    default:
      return 0;
  }
}

size_t panel_bytes(GgmlType type, int64_t rows, int64_t cols) noexcept {
  const int group = panel_group(type);
  if (group == 0 || rows <= 0 || cols <= 0) return 0;
  const auto sub = static_cast<size_t>((rows + kPanelLanes - 1) / kPanelLanes);
  const auto groups = static_cast<size_t>(cols / group);
  return panel_align(sub * kPanelLanes * static_cast<size_t>(cols)) +
         2 * panel_align(sub * groups * kPanelLanes * sizeof(float));
}

Panel make_panel(GgmlType type, int64_t rows, int64_t cols, void* memory) noexcept {
  Panel p;
  p.group = panel_group(type);
  p.groups = cols / p.group;
  p.subpanels = (rows + kPanelLanes - 1) / kPanelLanes;
  auto* base = static_cast<std::byte*>(memory);
  const size_t quant_bytes = panel_align(static_cast<size_t>(p.subpanels * kPanelLanes * cols));
  const size_t scale_bytes =
      panel_align(static_cast<size_t>(p.subpanels * p.groups * kPanelLanes) * sizeof(float));
  p.quants = reinterpret_cast<uint8_t*>(base);
  p.scale = reinterpret_cast<float*>(base + quant_bytes);
  p.min = reinterpret_cast<float*>(base + quant_bytes + scale_bytes);
  return p;
}

namespace {

void unpack_rows(GgmlType type, const std::byte* base, size_t row_bytes, int64_t rows, int64_t cols,
                 Panel& panel) noexcept {
  for (int64_t r = 0; r < rows; ++r) {
    RowWriter out(panel, r);
    const void* row = base + static_cast<size_t>(r) * row_bytes;
    switch (type) {
      case GgmlType::Q4_K:
        row_q45_k<BlockQ4_K, false>(static_cast<const BlockQ4_K*>(row), cols / kQKK, out);
        break;
      case GgmlType::Q5_K:
        row_q45_k<BlockQ5_K, true>(static_cast<const BlockQ5_K*>(row), cols / kQKK, out);
        break;
      case GgmlType::Q6_K:
        row_q6_k(static_cast<const BlockQ6_K*>(row), cols / kQKK, out);
        break;
      case GgmlType::Q8_0:
        row_q8_0(static_cast<const BlockQ8_0*>(row), cols / kQK32, out);
        break;
      case GgmlType::Q4_0:
        row_q32<BlockQ4_0, false, false>(static_cast<const BlockQ4_0*>(row), cols / kQK32, out);
        break;
      case GgmlType::Q4_1:
        row_q32<BlockQ4_1, false, true>(static_cast<const BlockQ4_1*>(row), cols / kQK32, out);
        break;
      case GgmlType::Q5_0:
        row_q32<BlockQ5_0, true, false>(static_cast<const BlockQ5_0*>(row), cols / kQK32, out);
        break;
      case GgmlType::Q5_1:
        row_q32<BlockQ5_1, true, true>(static_cast<const BlockQ5_1*>(row), cols / kQK32, out);
        break;
      default:
        return;
    }
  }
}

}  // namespace

void unpack_panel(GgmlType type, const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                  Panel& panel) noexcept {
  unpack_rows(type, static_cast<const std::byte*>(w), row_bytes, rows, cols, panel);
  // Rows past the end of the matrix: zero quants and scales, so their lanes compute 0.
  const int64_t padded = panel.subpanels * kPanelLanes;
  for (int64_t r = rows; r < padded; ++r) {
    RowWriter out(panel, r);
    for (int64_t g = 0; g < panel.groups; ++g) {
      out.scale_min(g, 0.f, 0.f);
      for (int k = 0; k < panel.group / 4; ++k) out.quad(g, k, 0);
    }
  }
}

}  // namespace inference::kernels::detail
