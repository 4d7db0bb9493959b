// kernels/cpu/packed_panel.cpp — the packed weights' panel forms (see packed_panel.hpp).
#include "kernels/cpu/packed_panel.hpp"

#include <cstring>

namespace inference::kernels::detail {
namespace {

using formats::GgmlType;

struct Sizes {
  size_t quants, fifth, scale, min;
};

Sizes sizes(GgmlType type, int64_t rows, int64_t cols) noexcept {
  const int group = panel_group(type);
  if (group == 0) return {0, 0, 0, 0};
  const auto subpanels = static_cast<size_t>((rows + kPanelLanes - 1) / kPanelLanes);
  const auto groups = static_cast<size_t>(cols / group);
  const auto lane_bytes = subpanels * kPanelLanes * static_cast<size_t>(cols);
  const PanelQuants form = packed_panel_quants(type);
  Sizes s{};
  s.quants = panel_align(form == PanelQuants::bytes ? lane_bytes : lane_bytes / 2);
  s.fifth =
      form == PanelQuants::nibbles_fifth_bit
          ? panel_align(subpanels * groups * static_cast<size_t>(group / 4) * sizeof(uint64_t))
          : 0;
  s.scale = panel_align(subpanels * groups * kPanelLanes * sizeof(float));
  s.min = panel_min_per_scale(type) != 0 ? 0 : s.scale;
  return s;
}

}  // namespace

PanelQuants packed_panel_quants(GgmlType type) noexcept {
  switch (type) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q4_K:
      return PanelQuants::nibbles;
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q5_K:
      return PanelQuants::nibbles_fifth_bit;
    default:
      return PanelQuants::bytes;
  }
}

float panel_min_per_scale(GgmlType type) noexcept {
  switch (type) {
    case GgmlType::Q8_0:
      return 128.f;
    case GgmlType::Q6_K:
      return 32.f;
    case GgmlType::Q5_0:
      return 16.f;
    case GgmlType::Q4_0:
      return 8.f;
    default:
      return 0.f;
  }
}

size_t packed_panel_bytes(GgmlType type, int64_t rows, int64_t cols) noexcept {
  const Sizes s = sizes(type, rows, cols);
  return s.quants + s.fifth + s.scale + s.min;
}

Panel make_packed_panel(GgmlType type, int64_t rows, int64_t cols, void* memory) noexcept {
  const Sizes s = sizes(type, rows, cols);
  Panel p;
  p.group = panel_group(type);
  p.groups = p.group == 0 ? 0 : cols / p.group;
  p.subpanels = (rows + kPanelLanes - 1) / kPanelLanes;
  p.form = packed_panel_quants(type);
  p.min_per_scale = panel_min_per_scale(type);
  auto* base = static_cast<std::byte*>(memory);
  p.quants = reinterpret_cast<uint8_t*>(base);
  if (s.fifth != 0) p.fifth = reinterpret_cast<uint64_t*>(base + s.quants);
  p.scale = reinterpret_cast<float*>(base + s.quants + s.fifth);
  if (s.min != 0) p.min = reinterpret_cast<float*>(base + s.quants + s.fifth + s.scale);
  return p;
}

bool compact_panel(const Panel& full, Panel& out) noexcept {
  const int group = full.group;
  const int64_t cells = full.subpanels * full.groups;  // (sub, group) pairs, in memory order
  const size_t group_floats = kPanelLanes;
  std::memcpy(out.scale, full.scale, static_cast<size_t>(cells) * group_floats * sizeof(float));
  if (out.min != nullptr) {
    std::memcpy(out.min, full.min, static_cast<size_t>(cells) * group_floats * sizeof(float));
  } else {
    for (int64_t i = 0; i < cells * kPanelLanes; ++i) {
      if (full.min[i] != out.min_per_scale * full.scale[i]) return false;
    }
  }
  constexpr int kVector = 4 * kPanelLanes;  // bytes of one k-step: 16 lanes × 4 quants
  const int steps = group / 4;
  if (out.form == PanelQuants::bytes) {
    std::memcpy(out.quants, full.quants, static_cast<size_t>(cells) * steps * kVector);
    return true;
  }
  const uint8_t limit = out.form == PanelQuants::nibbles ? 16 : 32;
  const int half = steps / 2;  // k-steps j and j + half share nibble vector j
  for (int64_t c = 0; c < cells; ++c) {
    const uint8_t* in = full.quants + c * steps * kVector;
    uint8_t* nib = out.quants + c * half * kVector;
    for (int k = 0; k < steps; ++k) {
      uint64_t fifth = 0;
      for (int b = 0; b < kVector; ++b) {
        const uint8_t q = in[k * kVector + b];
        if (q >= limit) return false;
        fifth |= static_cast<uint64_t>(q >> 4) << b;
        uint8_t& byte = nib[(k % half) * kVector + b];
        byte = k < half ? static_cast<uint8_t>(q & 15) : static_cast<uint8_t>(byte | (q & 15) << 4);
      }
      if (out.fifth != nullptr) out.fifth[c * steps + k] = fifth;
    }
  }
  return true;
}

}  // namespace inference::kernels::detail
