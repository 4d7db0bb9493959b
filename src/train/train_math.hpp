// train/train_math.hpp — the dense building blocks of LoRA training, forward and backward, for
// float (training) and double (gradient checks). Row-major throughout; the thread pool splits
// work so that every output element is computed by one thread in a fixed order, which keeps
// results independent of the thread count (a resumed run reproduces an uninterrupted one).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace inference::train {

inline size_t sz(int64_t n) {
  return static_cast<size_t>(n);
}

/// y[t][o] = Σi x[t][i]·w[o][i]  (x: n×in, w: out×in, y: n×out); accumulate adds to y.
template <typename T>
void matmul_nt(kernels::ThreadPool& pool, const T* x, const T* w, T* y, int64_t n, int64_t in,
               int64_t out, bool accumulate = false) {
  pool.parallel_for(out, [&](int64_t o0, int64_t o1) {
    for (int64_t t = 0; t < n; ++t) {
      const T* xr = x + t * in;
      for (int64_t o = o0; o < o1; ++o) {
        const T* wr = w + o * in;
        T acc = 0;
        for (int64_t i = 0; i < in; ++i) acc += xr[i] * wr[i];
        y[t * out + o] = accumulate ? y[t * out + o] + acc : acc;
      }
    }
  });
}

/// dx[t][i] += Σo dy[t][o]·w[o][i]  (dy: n×out, w: out×in, dx: n×in).
template <typename T>
void matmul_nn_acc(kernels::ThreadPool& pool, const T* dy, const T* w, T* dx, int64_t n,
                   int64_t out, int64_t in) {
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      T* dxr = dx + t * in;
      const T* dyr = dy + t * out;
      for (int64_t o = 0; o < out; ++o) {
        const T g = dyr[o];
        if (g == 0) continue;
        const T* wr = w + o * in;
        for (int64_t i = 0; i < in; ++i) dxr[i] += g * wr[i];
      }
    }
  });
}

/// g[o][i] += s·Σt dy[t][o]·x[t][i]  (dy: n×out, x: n×in, g: out×in).
template <typename T>
void outer_acc(kernels::ThreadPool& pool, const T* dy, const T* x, T* g, int64_t n, int64_t out,
               int64_t in, T s) {
  pool.parallel_for(out, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      T* gr = g + o * in;
      for (int64_t t = 0; t < n; ++t) {
        const T d = s * dy[t * out + o];
        if (d == 0) continue;
        const T* xr = x + t * in;
        for (int64_t i = 0; i < in; ++i) gr[i] += d * xr[i];
      }
    }
  });
}

/// RMS norm of one row: y = x·r·w with r = 1/sqrt(mean(x²) + eps); returns r.
template <typename T>
T rms_norm_forward(const T* x, const T* w, T* y, int64_t n, T eps) {
  T ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const T r = T(1) / std::sqrt(ss / static_cast<T>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * r * w[i];
  return r;
}

/// dx += d(rms_norm)/dx · dy for one row, given the forward's x and r.
template <typename T>
void rms_norm_backward(const T* x, const T* w, T r, const T* dy, T* dx, int64_t n) {
  T dot = 0;
  for (int64_t i = 0; i < n; ++i) dot += w[i] * dy[i] * x[i];
  const T k = r * r * r * dot / static_cast<T>(n);
  for (int64_t i = 0; i < n; ++i) dx[i] += r * w[i] * dy[i] - x[i] * k;
}

/// RoPE of one head in place: cos_sin as kernels::rope_angles writes it (cos, sin per pair).
template <typename T>
void rope_rotate(T* v, const float* cos_sin, int32_t n_dims, bool neox, bool inverse) {
  const int32_t half = n_dims / 2;
  for (int32_t i = 0; i < half; ++i) {
    const T c = cos_sin[2 * i];
    const T s = inverse ? -cos_sin[2 * i + 1] : cos_sin[2 * i + 1];
    const int32_t a = neox ? i : 2 * i;
    const int32_t b = neox ? i + half : 2 * i + 1;
    const T x0 = v[a], x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x0 * s + x1 * c;
  }
}

template <typename T>
T silu(T x) {
  return x / (T(1) + std::exp(-x));
}
template <typename T>
T silu_grad(T x) {
  const T sig = T(1) / (T(1) + std::exp(-x));
  return sig * (T(1) + x * (T(1) - sig));
}
template <typename T>
T gelu_tanh(T x) {
  const T k = T(0.7978845608028654);  // sqrt(2/pi)
  return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
}
template <typename T>
T gelu_tanh_grad(T x) {
  const T k = T(0.7978845608028654);
  const T inner = k * (x + T(0.044715) * x * x * x);
  const T th = std::tanh(inner);
  return T(0.5) * (T(1) + th) +
         T(0.5) * x * (T(1) - th * th) * k * (T(1) + T(3 * 0.044715) * x * x);
}

}  // namespace inference::train
