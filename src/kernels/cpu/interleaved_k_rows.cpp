// kernels/cpu/interleaved_k_rows.cpp — see interleaved_k_rows.hpp.
#include "kernels/cpu/interleaved_k_rows.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/k_scales.hpp"

namespace inference::kernels::detail {
namespace {

// Where a super-block keeps its fields in the file's layout.
struct PlainK {
  size_t block_bytes, qh, qs;
};

PlainK plain_k(bool five) {
  if (five) return {sizeof(BlockQ5_K), offsetof(BlockQ5_K, qh), offsetof(BlockQ5_K, qs)};
  return {sizeof(BlockQ4_K), 0, offsetof(BlockQ4_K, qs)};
}

// Where a run of s super-blocks keeps them: header (d, dmin, scale bytes, min nibbles), then
// [fifth bits], then quants.
struct RunK {
  size_t dmin, scales, min_nibbles, fifth, quants;
};

RunK run_k(bool five, int s) {
  const auto n = static_cast<size_t>(s);
  const size_t fifth = 16 * n;
  return {2 * n, 4 * n, 12 * n, fifth, fifth + (five ? 32 * n : 0)};
}

// The 12 GGUF bytes of a super-block's 8 scales and 8 mins (the inverse of k4_scale_min).
void pack_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>(sc[j] | (sc[j + 4] >> 4) << 6);
    q[j + 4] = static_cast<uint8_t>(m[j] | (m[j + 4] >> 4) << 6);
    q[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
  }
}

uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void store32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}

constexpr uint32_t kLow = 0x0F0F0F0Fu, kHigh = 0xF0F0F0F0u;

// The prompt GEMM lays interleaved rows back out for every prompt chunk, so both directions
// work on 32-bit words: sub-blocks 2c and 2c+1 share the file's bytes 32c..32c+31 (low and high
// nibbles), and bytes 32c + 4q (a) and 32c + 16 + 4q (b) hold exactly what lanes 2c and 2c+1
// hold in chunk q.
void interleave_quants(const uint8_t* qs, uint8_t* chunks, int lanes, int first_lane) {
  for (int c = 0; c < 4; ++c) {
    for (int q = 0; q < 4; ++q) {
      const uint32_t a = load32(qs + 32 * c + 4 * q), b = load32(qs + 32 * c + 16 + 4 * q);
      uint8_t* lane0 = chunks + 4 * lanes * q + 4 * (first_lane + 2 * c);
      store32(lane0, (a & kLow) | (b & kLow) << 4);
      store32(lane0 + 4, (a >> 4 & kLow) | (b & kHigh));
    }
  }
}

void deinterleave_quants(const uint8_t* chunks, uint8_t* qs, int lanes, int first_lane) {
  for (int c = 0; c < 4; ++c) {
    for (int q = 0; q < 4; ++q) {
      const uint8_t* lane0 = chunks + 4 * lanes * q + 4 * (first_lane + 2 * c);
      const uint32_t w0 = load32(lane0), w1 = load32(lane0 + 4);
      store32(qs + 32 * c + 4 * q, (w0 & kLow) | (w1 & kLow) << 4);
      store32(qs + 32 * c + 16 + 4 * q, (w0 >> 4 & kLow) | (w1 & kHigh));
    }
  }
}

// Q5_K fifth bits of one super-block and step t: the file's qh[4t + e] bit k (element 4t + e of
// sub-block k) is bit 4k + e of the step's 32-bit word. A 4 × 8 bit transpose, by multiplies
// that move bits to distinct positions (no carries).
uint32_t fifth_word(uint32_t qh) {
  uint32_t f = 0;
  for (int k = 0; k < 8; ++k) {
    const uint32_t bytes = (qh >> k) & 0x01010101u;        // bit e at 8e
    f |= ((bytes * 0x01020408u) >> 24 & 0xFu) << (4 * k);  // bit 8e → 24 + e
  }
  return f;
}

uint32_t qh_word(uint32_t f) {
  uint32_t qh = 0;
  for (int k = 0; k < 8; ++k) {
    const uint32_t n = (f >> (4 * k)) & 0xFu;
    qh |= ((n * 0x00204081u) & 0x01010101u) << k;  // bit e → 8e
  }
  return qh;
}

void interleave_run(const uint8_t* plain, uint8_t* out, int s, bool five) {
  const PlainK p = plain_k(five);
  const RunK r = run_k(five, s);
  std::memset(out + r.min_nibbles, 0, static_cast<size_t>(4 * s));
  for (int b = 0; b < s; ++b) {
    const uint8_t* blk = plain + static_cast<size_t>(b) * p.block_bytes;
    std::memcpy(out + 2 * b, blk, 2);               // d
    std::memcpy(out + r.dmin + 2 * b, blk + 2, 2);  // dmin
    for (int k = 0; k < 8; ++k) {
      const int j = 8 * b + k;
      uint8_t sc, m;
      k4_scale_min(k, blk + 4, &sc, &m);
      out[r.scales + j] = static_cast<uint8_t>(sc | (m & 3) << 6);
      out[r.min_nibbles + j / 2] |= static_cast<uint8_t>((m >> 2) << (4 * (j % 2)));
    }
    interleave_quants(blk + p.qs, out + r.quants, 8 * s, 8 * b);
    if (five) {
      for (int t = 0; t < 8; ++t) {
        store32(out + r.fifth + 4 * s * t + 4 * b, fifth_word(load32(blk + p.qh + 4 * t)));
      }
    }
  }
}

void deinterleave_run(const uint8_t* run, uint8_t* plain, int s, bool five) {
  const PlainK p = plain_k(five);
  const RunK r = run_k(five, s);
  for (int b = 0; b < s; ++b) {
    uint8_t* blk = plain + static_cast<size_t>(b) * p.block_bytes;
    std::memcpy(blk, run + 2 * b, 2);
    std::memcpy(blk + 2, run + r.dmin + 2 * b, 2);
    uint8_t sc[8], m[8];
    for (int k = 0; k < 8; ++k) {
      const int j = 8 * b + k;
      const uint8_t byte = run[r.scales + j];
      const auto high = static_cast<uint8_t>((run[r.min_nibbles + j / 2] >> (4 * (j % 2))) & 0xF);
      sc[k] = byte & 63;
      m[k] = static_cast<uint8_t>(byte >> 6 | high << 2);
    }
    pack_scales(sc, m, blk + 4);
    deinterleave_quants(run + r.quants, blk + p.qs, 8 * s, 8 * b);
    if (five) {
      for (int t = 0; t < 8; ++t) {
        store32(blk + p.qh + 4 * t, qh_word(load32(run + r.fifth + 4 * s * t + 4 * b)));
      }
    }
  }
}

template <typename Fn>
void for_each_run(int64_t superblocks, size_t block_bytes, Fn&& fn) {
  for (int64_t b = 0; b < superblocks; b += 2) {
    fn(static_cast<size_t>(b) * block_bytes,
       static_cast<int>(std::min<int64_t>(2, superblocks - b)));
  }
}

}  // namespace

void interleave_k_row(bool five, void* row, int64_t superblocks) noexcept {
  const PlainK p = plain_k(five);
  std::array<uint8_t, 2 * sizeof(BlockQ5_K)> run{};
  auto* bytes = static_cast<uint8_t*>(row);
  for_each_run(superblocks, p.block_bytes, [&](size_t offset, int s) {
    interleave_run(bytes + offset, run.data(), s, five);
    std::memcpy(bytes + offset, run.data(), static_cast<size_t>(s) * p.block_bytes);
  });
}

void deinterleave_k_row(bool five, const void* row, void* out, int64_t superblocks) noexcept {
  const PlainK p = plain_k(five);
  const auto* in = static_cast<const uint8_t*>(row);
  auto* plain = static_cast<uint8_t*>(out);
  for_each_run(superblocks, p.block_bytes, [&](size_t offset, int s) {
    deinterleave_run(in + offset, plain + offset, s, five);
  });
}

}  // namespace inference::kernels::detail
