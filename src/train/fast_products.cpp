#include "train/fast_products.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/quantize_activation.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "train/simd_clones.hpp"

namespace inference::train {

using formats::GgmlType;

namespace {

constexpr int64_t kQ8Block = 32;
constexpr size_t kQ8BlockBytes = 34;  // fp16 scale + 32 int8

size_t usz(int64_t n) {
  return static_cast<size_t>(n);
}

bool float_type(GgmlType t) {
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16;
}

// Rows [r0, r1) of w dequantised into `rows` ((r1 - r0) × w.cols floats).
void dequantize_block(const kernels::WeightView& w, int64_t r0, int64_t r1, float* rows) {
  for (int64_t r = r0; r < r1; ++r)
    kernels::dequantize_weight_row(w, r, rows + usz((r - r0) * w.cols));
}

}  // namespace

void dense_nt(kernels::ThreadPool& pool, const float* x, int64_t x_stride, int64_t n,
              const float* w, int64_t w_stride, int64_t rows, int64_t cols, float* y,
              int64_t y_stride) {
  if (n <= 0 || rows <= 0) return;
  if (cols <= 0) {
    for (int64_t t = 0; t < n; ++t) std::fill_n(y + t * y_stride, rows, 0.0f);
    return;
  }
  const kernels::WeightView view{GgmlType::F32, w, rows, cols, usz(w_stride) * sizeof(float)};
  kernels::matmul(pool, view, x, x_stride, n, y, y_stride, nullptr);
}

void transpose(const float* src, int64_t rows, int64_t cols, int64_t src_stride, float* dst,
               int64_t dst_stride) {
  // Tiles of 16 × 16 keep both sides in cache lines.
  constexpr int64_t kTile = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    const int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[c * dst_stride + r] = src[r * src_stride + c];
    }
  }
}

void BaseProducts::forward(const kernels::WeightView& w, const float* x, int64_t n, float* y) {
  if (exact_ && w.type != GgmlType::F32) {
    exact_forward_.resize(usz(w.rows * w.cols));
    pool_.parallel_for(w.rows, [&](int64_t r0, int64_t r1) {
      dequantize_block(w, r0, r1, exact_forward_.data() + usz(r0 * w.cols));
    });
    dense_nt(pool_, x, w.cols, n, exact_forward_.data(), w.cols, w.rows, w.cols, y, w.rows);
    return;
  }
  if (const kernels::PackedWeight* packed = resident(w)) {
    kernels::matmul_packed(pool_, *packed, x, w.cols, n, y, w.rows, scratch(w, n, true));
    return;
  }
  kernels::matmul(pool_, w, x, w.cols, n, y, w.rows, scratch(w, n, false));
}

const kernels::PackedWeight* BaseProducts::resident(const kernels::WeightView& w) {
  if (!resident_ || exact_) return nullptr;
  auto it = resident_panels_.find(w.data);
  if (it == resident_panels_.end()) {
    auto packed = kernels::PackedWeight::pack(pool_, w);  // null: no panel form, matmul instead
    if (packed) resident_bytes_ += packed->bytes();
    it = resident_panels_.emplace(w.data, std::move(packed)).first;
  }
  return it->second.get();
}

void* BaseProducts::scratch(const kernels::WeightView& w, int64_t n, bool packed) {
  const size_t bytes =
      packed ? kernels::activation_scratch_bytes(w.type, w.cols, n, kernels::MatmulPath::prompt)
             : kernels::activation_scratch_bytes(w.type, w.cols, n);
  if (scratch_.size() < bytes) scratch_.resize(bytes);
  return scratch_.data();
}

const BaseProducts::Transposed& BaseProducts::transposed(const kernels::WeightView& w) {
  if (exact_ && !float_type(w.type)) {
    build_transposed(w, false, exact_transposed_);
    return exact_transposed_;
  }
  auto it = cache_.find(w.data);
  if (it != cache_.end()) return it->second;
  Transposed t;
  build_transposed(w, !float_type(w.type) && w.rows % kQ8Block == 0, t);
  // The Q8_0 copy is kept in the GEMM's panel form (~18% more bytes, no unpacking per call).
  if (t.view.type == GgmlType::Q8_0) {
    t.packed = kernels::PackedWeight::pack(pool_, t.view);
    if (t.packed) {
      std::vector<std::byte>().swap(t.data);  // release the Q8_0 bytes
      t.view.data = nullptr;
    }
  }
  transposed_bytes_ += t.packed ? t.packed->bytes() : t.data.size();
  return cache_.emplace(w.data, std::move(t)).first->second;
}

void BaseProducts::build_transposed(const kernels::WeightView& w, bool q8, Transposed& t) {
  // Wᵀ: w.cols rows of w.rows elements.
  t.view.type = q8 ? GgmlType::Q8_0 : GgmlType::F32;
  t.view.rows = w.cols;
  t.view.cols = w.rows;
  t.view.row_bytes = q8 ? usz(w.rows / kQ8Block) * kQ8BlockBytes : usz(w.rows) * sizeof(float);
  t.data.resize(t.view.row_bytes * usz(w.cols));
  std::byte* out = t.data.data();
  const size_t row_bytes = t.view.row_bytes;
  // Work in bands of 32 source rows: each band is one Q8_0 block of every transposed row, so
  // threads write disjoint bytes.
  const int64_t bands = (w.rows + kQ8Block - 1) / kQ8Block;
  pool_.parallel_for(bands, [&](int64_t b0, int64_t b1) {
    std::vector<float> rows(usz(kQ8Block * w.cols)), column(usz(kQ8Block));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * kQ8Block, r1 = std::min(w.rows, r0 + kQ8Block);
      dequantize_block(w, r0, r1, rows.data());
      for (int64_t c = 0; c < w.cols; ++c) {
        for (int64_t r = r0; r < r1; ++r) column[usz(r - r0)] = rows[usz((r - r0) * w.cols + c)];
        std::byte* dst = out + usz(c) * row_bytes;
        if (q8) {
          kernels::quantize_activation_q8_0(column.data(), dst + usz(b) * kQ8BlockBytes, kQ8Block);
        } else {
          std::memcpy(dst + usz(r0) * sizeof(float), column.data(), usz(r1 - r0) * sizeof(float));
        }
      }
    }
  });
  t.view.data = t.data.data();
}

namespace {

// max |row[i]|, in 16 lanes.
INFERENCE_TRAIN_CLONES float max_magnitude(const float* row, int64_t n) noexcept {
  constexpr int64_t kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) {
      const float a = std::fabs(row[i + j]);
      acc[j] = a > acc[j] ? a : acc[j];
    }
  float amax = 0.0f;
  for (int64_t j = 0; j < kLanes; ++j) amax = acc[j] > amax ? acc[j] : amax;
  for (; i < n; ++i) amax = std::fabs(row[i]) > amax ? std::fabs(row[i]) : amax;
  return amax;
}

INFERENCE_TRAIN_CLONES void multiply(float* row, int64_t n, float factor) noexcept {
  for (int64_t i = 0; i < n; ++i) row[i] *= factor;
}

}  // namespace

float normalize_row(float* row, int64_t n, float factor) noexcept {
  const float amax = max_magnitude(row, n) * factor;
  if (!(amax > 0.0f) || !std::isfinite(amax)) {
    if (factor != 1.0f) multiply(row, n, factor);
    return 1.0f;
  }
  // One multiply by an exact factor: `factor` times a power of two.
  const int exponent = std::ilogb(amax);
  multiply(row, n, std::ldexp(factor, -exponent));
  return std::ldexp(1.0f, exponent);
}

void BaseProducts::backward_acc_consuming(const kernels::WeightView& w, float* dy, int64_t n,
                                          float* dx) {
  if (transposed(w).view.type != GgmlType::Q8_0) return backward_acc(w, dy, n, dx);
  consumed_scale_.resize(usz(n));
  pool_.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t r = t0; r < t1; ++r)
      consumed_scale_[usz(r)] = normalize_row(dy + r * w.rows, w.rows);
  });
  backward_acc(w, dy, n, dx, consumed_scale_.data());
}

void BaseProducts::backward_acc(const kernels::WeightView& w, const float* dy, int64_t n, float* dx,
                                const float* dy_scale) {
  const Transposed& t = transposed(w);
  const int64_t out = w.rows, in = w.cols;
  const float* src = dy;
  row_scale_.assign(usz(n), 1.0f);
  if (dy_scale != nullptr) {
    std::copy_n(dy_scale, n, row_scale_.begin());
  } else if (t.view.type == GgmlType::Q8_0) {
    scaled_.resize(usz(n * out));
    pool_.parallel_for(n, [&](int64_t t0, int64_t t1) {
      for (int64_t r = t0; r < t1; ++r) {
        float* row = &scaled_[usz(r * out)];
        std::copy_n(dy + r * out, out, row);
        row_scale_[usz(r)] = normalize_row(row, out);
      }
    });
    src = scaled_.data();
  }
  product_.resize(usz(n * in));
  if (t.packed) {
    kernels::matmul_packed(pool_, *t.packed, src, out, n, product_.data(), in,
                           scratch(t.view, n, true));
  } else {
    kernels::matmul(pool_, t.view, src, out, n, product_.data(), in, scratch(t.view, n, false));
  }
  pool_.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t r = t0; r < t1; ++r) {
      const float s = row_scale_[usz(r)];
      const float* p = &product_[usz(r * in)];
      float* d = dx + r * in;
      for (int64_t i = 0; i < in; ++i) d[i] += p[i] * s;
    }
  });
}

}  // namespace inference::train
