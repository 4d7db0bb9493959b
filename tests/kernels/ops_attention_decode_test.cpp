// Split decode attention (attention_decode.hpp): blocks of cells + merge against attend_head per
// query head (the reference path the engine's exactness tests pin to llama.cpp), for F32, F16
// and Q8_0 caches, linear and ring layouts with empty cells, with and without a sliding window,
// several head sizes and group sizes, contexts of one and several blocks; every SIMD variant
// this CPU runs against the scalar one; and the Q8_0 row quantiser.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::kernels {
namespace {

enum class Elem { f32, f16, q8_0 };

struct Cache {
  std::vector<float> k32, v32;
  std::vector<uint16_t> k16, v16;
  std::vector<std::byte> k8, v8;
  std::vector<int32_t> pos;
  int32_t head_dim = 0;

  KvHeadView view(Elem e, int32_t first_cell) const {
    KvHeadView kv;
    kv.f16 = e == Elem::f16;
    kv.q8_0 = e == Elem::q8_0;
    kv.k = e == Elem::f16    ? static_cast<const void*>(k16.data())
           : e == Elem::q8_0 ? static_cast<const void*>(k8.data())
                             : k32.data();
    kv.v = e == Elem::f16    ? static_cast<const void*>(v16.data())
           : e == Elem::q8_0 ? static_cast<const void*>(v8.data())
                             : v32.data();
    kv.cell_stride = head_dim;
    kv.cell_pos = pos.data();
    kv.n_cells = static_cast<int32_t>(pos.size());
    kv.first_cell = first_cell;
    return kv;
  }
};

// Cell (first + i) % n holds position i; the last `empty` cells stay empty (-1).
Cache make_cache(int32_t n_cells, int32_t hd, int32_t first, int32_t empty, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.f, 1.f);
  Cache c;
  c.head_dim = hd;
  const size_t n = static_cast<size_t>(n_cells) * hd;
  for (size_t i = 0; i < n; ++i) {
    c.k32.push_back(dist(rng));
    c.v32.push_back(dist(rng));
    c.k16.push_back(fp32_to_fp16(c.k32.back()));
    c.v16.push_back(fp32_to_fp16(c.v32.back()));
  }
  if (hd % 32 == 0) {
    const size_t row = q8_0_row_bytes(hd);
    c.k8.resize(row * n_cells);
    c.v8.resize(row * n_cells);
    for (int32_t i = 0; i < n_cells; ++i) {
      quantize_row_q8_0_kv(c.k32.data() + static_cast<size_t>(i) * hd, c.k8.data() + i * row, hd);
      quantize_row_q8_0_kv(c.v32.data() + static_cast<size_t>(i) * hd, c.v8.data() + i * row, hd);
    }
  }
  c.pos.assign(static_cast<size_t>(n_cells), -1);
  for (int32_t i = 0; i < n_cells - empty; ++i)
    c.pos[static_cast<size_t>((first + i) % n_cells)] = i;
  return c;
}

// The split kernel of the active SIMD level over all blocks, merged.
std::vector<float> split(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv) {
  const int32_t blocks = (kv.n_cells + kDecodeBlockCells - 1) / kDecodeBlockCells;
  const size_t part = attention_partial_floats(hd, qs.n_heads);
  std::vector<float> parts(part * blocks), scratch(attend_decode_scratch_floats(hd, qs.n_heads));
  for (int32_t b = 0; b < blocks; ++b) {
    const int32_t i0 = b * kDecodeBlockCells;
    const int32_t i1 = std::min(kv.n_cells, i0 + kDecodeBlockCells);
    attend_decode_block(qs, hd, kv, i0, i1, scratch.data(),
                        attention_partial_at(parts.data() + b * part, hd, qs.n_heads));
  }
  std::vector<float> out(static_cast<size_t>(qs.n_heads) * hd);
  attend_decode_merge(parts.data(), blocks, qs.n_heads, hd, out.data());
  return out;
}

std::vector<float> reference(const DecodeQueries& qs, int32_t hd, const KvHeadView& kv) {
  std::vector<float> out(static_cast<size_t>(qs.n_heads) * hd), scores(kv.n_cells), tmp(hd);
  for (int32_t h = 0; h < qs.n_heads; ++h) {
    attend_head(qs.q + h * hd, hd, kv, {qs.pos, qs.window}, qs.scale, scores.data(), tmp.data(),
                out.data() + h * hd);
  }
  return out;
}

struct Shape {
  int32_t n_cells, hd, heads, first, empty, pos, window;
};

void check_all(Elem e, const Shape& s, float tol, std::mt19937& rng) {
  const Cache cache = make_cache(s.n_cells, s.hd, s.first, s.empty, rng);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> q(static_cast<size_t>(s.heads) * s.hd);
  for (float& x : q) x = dist(rng);
  const DecodeQueries qs{q.data(), s.heads, s.pos, s.window, 1.0f / std::sqrt(float(s.hd))};
  const KvHeadView kv = cache.view(e, s.first);
  const auto want = reference(qs, s.hd, kv);
  for (const char* path : {"scalar", "avx2", "avx512"}) {
    if (!force_simd_path(path)) continue;
    const auto got = split(qs, s.hd, kv);
    force_simd_path("");
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], tol)
          << path << " elem " << static_cast<int>(e) << " cells " << s.n_cells << " hd " << s.hd
          << " heads " << s.heads << " pos " << s.pos << " window " << s.window << " at " << i;
    }
  }
}

TEST(AttentionDecode, SplitAndMergeMatchAttendHead) {
  std::mt19937 rng(7);
  const Shape shapes[] = {
      {1, 64, 4, 0, 0, 0, 0},          // a single cell
      {37, 64, 4, 0, 0, 36, 0},        // less than a block, ragged tile
      {600, 64, 4, 0, 0, 599, 0},      // three blocks, the last partial
      {600, 64, 7, 0, 0, 420, 0},      // cells past pos are masked (later positions)
      {300, 128, 2, 113, 20, 279, 0},  // ring with empty cells
      {300, 64, 3, 113, 0, 299, 50},   // sliding window: only the last 50 positions
      {513, 256, 1, 5, 0, 512, 0},     // big heads, one query head per KV head
      {40, 32, 5, 0, 0, 39, 0},        // head size 32
      {20, 48, 2, 0, 0, 19, 0},        // head size 48 (F32/F16 only)
      {100, 64, 12, 30, 5, 99, 0},     // more query heads than one register slab (8 + 4), ring
      {70, 80, 6, 0, 0, 69, 0},        // value columns in chunks of 4 + 1 (F32/F16 only)
      {50, 512, 3, 0, 0, 49, 0},       // largest head size, value columns 8 at a time
      {290, 64, 8, 270, 0, 289, 0},    // a full slab; the ring wraps inside a tile
  };
  for (const Shape& s : shapes) {
    // F32: summation order only. F16: attend_head also rounds the softmax weights to F16
    // (relative 2^-11 on each weight). Q8_0: both paths dequantise the same blocks.
    check_all(Elem::f32, s, 2e-5f, rng);
    check_all(Elem::f16, s, 2e-3f, rng);
    if (s.hd % 32 == 0) check_all(Elem::q8_0, s, 2e-5f, rng);
  }
}

TEST(AttentionDecode, NoVisibleCellGivesZero) {
  std::mt19937 rng(3);
  const Cache cache = make_cache(40, 64, 0, 40, rng);  // all empty
  std::vector<float> q(128, 1.0f);
  const auto out = split({q.data(), 2, 10, 0, 0.125f}, 64, cache.view(Elem::f16, 0));
  for (float x : out) EXPECT_EQ(x, 0.0f);
}

TEST(AttentionDecode, Q8_0RowsRoundTripWithinHalfAStep) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.f, 3.f);
  std::vector<float> x(64);
  for (float& v : x) v = dist(rng);
  x[40] = 0.0f;
  std::vector<std::byte> q(q8_0_row_bytes(64));
  ASSERT_EQ(q.size(), 68u);
  quantize_row_q8_0_kv(x.data(), q.data(), 64);
  for (int b = 0; b < 2; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::abs(x[b * 32 + i]));
    uint16_t d16;
    std::memcpy(&d16, q.data() + b * 34, 2);
    const float d = fp16_to_fp32(d16);
    EXPECT_NEAR(d, amax / 127, amax / 127 * 1e-3);
    const auto* qs = reinterpret_cast<const int8_t*>(q.data() + b * 34 + 2);
    for (int i = 0; i < 32; ++i) {
      // Rounded with the exact scale, restored with the F16 one: half a step plus 127 times
      // the scale's F16 rounding.
      EXPECT_NEAR(d * qs[i], x[b * 32 + i], 0.5f * d + 127 * std::abs(d - amax / 127) + 1e-6f);
    }
  }
  // All zeros: scale 0, no division by zero.
  std::vector<float> zeros(32, 0.0f);
  quantize_row_q8_0_kv(zeros.data(), q.data(), 32);
  for (int i = 2; i < 34; ++i) EXPECT_EQ(static_cast<int8_t>(q[i]), 0);
}

}  // namespace
}  // namespace inference::kernels
