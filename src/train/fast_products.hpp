// train/fast_products.hpp — the float training path's matrix products on the engine's kernels.
//
// Forward products of the frozen base go through kernels::matmul exactly as prompt processing
// does (weights used in place in their file format, activations quantised to the weight type's
// partner format). The backward input gradient dX = dY·W needs W by columns; the engine's
// kernels read weights by rows, so each base matrix gets a transposed copy, built once on first
// use and kept: F32 for float bases (the product is then the exact float one) and Q8_0 for
// quantised bases, held in the prompt GEMM's unpacked panel form (kernels::PackedWeight, ~1.25
// bytes per weight: the integer kernels run at prompt-processing speed without unpacking).
// Dense float products (attention, LoRA A/B and their gradients) use the engine's F32 kernels
// through row-major views. All products split their output over the pool with each element
// computed by one thread, so results do not depend on the thread count.
//
// Exact mode (set_exact) computes the base products of quantised (and F16/BF16) bases in float
// over weights dequantised per call instead — forward through a float copy of the rows, backward
// through a float transposed copy, neither kept — so a quantised base trains on the same
// function, to float rounding, as the plain loops over dequantised weights; slower (float
// instead of 8-bit products, and a dequantisation per call) and memory-light.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "kernels/cpu/matmul.hpp"

namespace inference::train {

/// y[t][r] = Σc x[t][c]·w[r][c] for t < n, r < rows (row strides in floats); y is overwritten.
void dense_nt(kernels::ThreadPool& pool, const float* x, int64_t x_stride, int64_t n,
              const float* w, int64_t w_stride, int64_t rows, int64_t cols, float* y,
              int64_t y_stride);

/// dst (cols × rows, stride dst_stride) = srcᵀ (src: rows × cols, stride src_stride).
void transpose(const float* src, int64_t rows, int64_t cols, int64_t src_stride, float* dst,
               int64_t dst_stride);

/// Multiplies row (n floats) by factor times the power of two that brings the largest magnitude
/// of factor·row to about [1, 2) — one rounding, as for factor alone — and returns the power of
/// two that undoes it (1 for a zero or non-finite row, which is just multiplied by factor).
/// Q8_0 stores its block scales in fp16, which cannot hold the scale of gradients far below 1.
float normalize_row(float* row, int64_t n, float factor = 1.0f) noexcept;

class BaseProducts {
 public:
  explicit BaseProducts(kernels::ThreadPool& pool) : pool_(pool) {}

  /// y (n × w.rows) = x (n × w.cols) · Wᵀ, the engine's prompt-processing matmul.
  void forward(const kernels::WeightView& w, const float* x, int64_t n, float* y);
  /// dx (n × w.cols) += dy (n × w.rows) · W, through the cached transposed copy of W. With
  /// dy_scale, dy's rows come already normalised by normalize_row (row r is the true gradient
  /// divided by dy_scale[r]), which saves a copy of dy when its producer can normalise in place.
  void backward_acc(const kernels::WeightView& w, const float* dy, int64_t n, float* dx,
                    const float* dy_scale = nullptr);
  /// backward_acc for a dy the caller no longer needs: its rows are normalised in place instead
  /// of in a copy (dy's contents are unspecified afterwards).
  void backward_acc_consuming(const kernels::WeightView& w, float* dy, int64_t n, float* dx);
  void set_exact(bool on) noexcept { exact_ = on; }
  /// Keep the forward weights unpacked in the GEMM's panel form (kernels::PackedWeight, ~1.25
  /// bytes per weight on top of the model) instead of unpacking them on every call.
  void set_resident_panels(bool on) noexcept { resident_ = on; }
  /// Bytes held by the resident forward panels.
  size_t resident_bytes() const noexcept { return resident_bytes_; }
  bool exact() const noexcept { return exact_; }
  /// Bytes held by the transposed copies.
  size_t transposed_bytes() const noexcept { return transposed_bytes_; }

 private:
  struct Transposed {
    std::vector<std::byte> data;
    kernels::WeightView view;
    std::unique_ptr<kernels::PackedWeight> packed;  // when set, data is released
  };
  const Transposed& transposed(const kernels::WeightView& w);
  void build_transposed(const kernels::WeightView& w, bool q8, Transposed& t);
  /// Activation scratch for w and n tokens, on matmul's automatic path or (packed) for
  /// matmul_packed.
  void* scratch(const kernels::WeightView& w, int64_t n, bool packed);
  const kernels::PackedWeight* resident(const kernels::WeightView& w);

  kernels::ThreadPool& pool_;
  std::unordered_map<const void*, Transposed> cache_;
  std::unordered_map<const void*, std::unique_ptr<kernels::PackedWeight>> resident_panels_;
  size_t resident_bytes_ = 0;
  bool resident_ = false;
  size_t transposed_bytes_ = 0;
  bool exact_ = false;
  Transposed exact_transposed_;       // exact mode: this call's float transposed weights
  std::vector<float> exact_forward_;  // exact mode: this call's float weights
  std::vector<std::byte> scratch_;
  std::vector<float> scaled_, product_, row_scale_, consumed_scale_;
};

}  // namespace inference::train
