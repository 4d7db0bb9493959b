#include "train/lora_products.hpp"

#include <algorithm>

#include "train/dense_block.hpp"
#include "train/fast_products.hpp"

namespace inference::train {

namespace {

constexpr int64_t kColumnUnit = 32, kRowUnit = 4;

size_t usz(int64_t n) {
  return static_cast<size_t>(n);
}

// fn(c0, c1) over [0, cols) in 32-column units spread over the pool.
template <typename Fn>
void by_columns(kernels::ThreadPool& pool, int64_t cols, const Fn& fn) {
  const int64_t units = (cols + kColumnUnit - 1) / kColumnUnit;
  pool.parallel_for(units, [&](int64_t u0, int64_t u1) {
    fn(u0 * kColumnUnit, std::min(cols, u1 * kColumnUnit));
  });
}

// fn(r0, r1) over [0, rows) in 4-row units spread over the pool.
template <typename Fn>
void by_rows(kernels::ThreadPool& pool, int64_t rows, const Fn& fn) {
  const int64_t units = (rows + kRowUnit - 1) / kRowUnit;
  pool.parallel_for(
      units, [&](int64_t u0, int64_t u1) { fn(u0 * kRowUnit, std::min(rows, u1 * kRowUnit)); });
}

// z (n × rank) = x · Aᵀ.
void down_project(kernels::ThreadPool& pool, const LoraFactors& f, const float* x, int64_t n,
                  std::vector<float>& z) {
  z.resize(usz(n * f.rank));
  dense_nt(pool, x, f.in, n, f.a, f.in, f.rank, f.in, z.data(), f.rank);
}

// bt (rank × out) = Bᵀ.
void transposed_b(const LoraFactors& f, std::vector<float>& bt) {
  bt.resize(usz(f.out * f.rank));
  transpose(f.b, f.out, f.rank, f.rank, bt.data(), f.out);
}

}  // namespace

void lora_forward(kernels::ThreadPool& pool, const LoraFactors& f, const float* x, int64_t n,
                  float* y, LoraProductScratch& s) {
  if (n <= 0 || f.rank <= 0) return;
  down_project(pool, f, x, n, s.z);
  for (float& v : s.z) v *= f.scale;
  transposed_b(f, s.bt);
  const int64_t r = f.rank, out = f.out;
  by_rows(pool, n, [&](int64_t t0, int64_t t1) {
    block_nn_acc(t1 - t0, out, r, s.z.data() + t0 * r, r, s.bt.data(), out, y + t0 * out, out);
  });
}

void lora_backward(kernels::ThreadPool& pool, const LoraFactors& f, const float* x, const float* dy,
                   int64_t n, float* grad_a, float* grad_b, float* dx, LoraProductScratch& s) {
  if (n <= 0 || f.rank <= 0) return;
  const int64_t r = f.rank, in = f.in, out = f.out;
  down_project(pool, f, x, n, s.z);
  // grad_b += scale·(zᵀ·dy)ᵀ, zᵀ·dy (rank × out) by columns of out.
  s.gbt.assign(usz(r * out), 0.0f);
  by_columns(pool, out, [&](int64_t c0, int64_t c1) {
    block_tn_acc(r, c1 - c0, n, s.z.data(), r, dy + c0, out, s.gbt.data() + c0, out);
  });
  for (int64_t o = 0; o < out; ++o)
    for (int64_t j = 0; j < r; ++j) grad_b[o * r + j] += f.scale * s.gbt[usz(j * out + o)];
  // dz (n × rank) = scale·dy·B.
  transposed_b(f, s.bt);
  s.dz.resize(usz(n * r));
  dense_nt(pool, dy, out, n, s.bt.data(), out, r, out, s.dz.data(), r);
  for (float& v : s.dz) v *= f.scale;
  // grad_a += dzᵀ·x (rank × in) by columns of in; dx += dz·A by rows of tokens.
  s.ga.assign(usz(r * in), 0.0f);
  by_columns(pool, in, [&](int64_t c0, int64_t c1) {
    block_tn_acc(r, c1 - c0, n, s.dz.data(), r, x + c0, in, s.ga.data() + c0, in);
  });
  for (size_t i = 0; i < s.ga.size(); ++i) grad_a[i] += s.ga[i];
  by_rows(pool, n, [&](int64_t t0, int64_t t1) {
    block_nn_acc(t1 - t0, in, r, s.dz.data() + t0 * r, r, f.a, in, dx + t0 * in, in);
  });
}

}  // namespace inference::train
