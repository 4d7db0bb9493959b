// kernels/cpu/ops/ops_table.hpp — the elementwise ops of one SIMD level (scalar, AVX2,
// AVX-512), picked at run time like the matmul kernels (kernel_table.hpp).
//
// The public functions of rms_norm.hpp, rope.hpp, softmax.hpp, activations.hpp and
// attention.hpp call through active_ops_table(), which follows the matmul table chosen by
// simd_dispatch.cpp (CPUID, or force_simd_path()), so one switch selects every kernel.
//
// Every variant computes the same float expressions in the same order as the scalar reference
// (sums of squares and of exponentials use 8 double accumulators, lane j taking elements
// i % 8 == j, reduced by one fixed tree; exp is exp_approx of fast_exp.hpp everywhere), so the
// variants are bit-identical to the scalar reference, not merely close.
#pragma once

#include <cstdint>

#include "kernels/cpu/ops/attention.hpp"
#include "kernels/cpu/ops/rope.hpp"

namespace inference::kernels::detail {

struct OpsTable {
  const char* name;
  void (*rms_norm_row)(const float* x, const float* weight, float* y, int64_t n,
                       float eps) noexcept;
  void (*rope_apply)(const RopeConfig& config, const float* cos_sin, float* x, int32_t n_heads,
                     int32_t head_dim) noexcept;
  /// Returns log Σ exp(x) (max + log of the double sum; -inf for an all -inf row).
  double (*softmax_row)(float* x, int64_t n) noexcept;
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n) noexcept;
  void (*geglu)(const float* gate, const float* up, float* out, int64_t n) noexcept;
  /// out[head_dim] = sum over cells i (ring order from kv.first_cell) with weights[i] != 0 of
  /// weights[i] * v_i, accumulated cell by cell. F16 cache: each weight rounded to F16 first.
  void (*attention_values)(const float* weights, const KvHeadView& kv, int32_t head_dim,
                           float* out) noexcept;
  /// out[i] = F16 bits of x[i] (round to nearest even).
  void (*round_to_f16)(const float* x, uint16_t* out, int64_t n) noexcept;
};

const OpsTable& scalar_ops_table() noexcept;
/// nullptr when this build has no such variant (non-x86 builds).
const OpsTable* avx2_ops_table() noexcept;
const OpsTable* avx512_ops_table() noexcept;
/// The table of the SIMD level the matmul kernels use (best for this CPU, or forced).
const OpsTable& active_ops_table() noexcept;

/// GELU-tanh of every F16 value as a float (the F16 result of the reference's table), indexed
/// by the F16 bits of the input. Built once, thread-safe.
const float* gelu_f16_values() noexcept;
/// F16 bits -> float for every F16 value.
const float* fp16_values() noexcept;

/// The fixed reduction of the 8 double lanes (see the file comment).
inline double reduce_lanes(const double* a) noexcept {
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

// Scalar references (the *.cpp next to each header).
void rms_norm_row_scalar(const float* x, const float* weight, float* y, int64_t n,
                         float eps) noexcept;
void rope_apply_scalar(const RopeConfig& config, const float* cos_sin, float* x, int32_t n_heads,
                       int32_t head_dim) noexcept;
double softmax_row_scalar(float* x, int64_t n) noexcept;
void swiglu_scalar(const float* gate, const float* up, float* out, int64_t n) noexcept;
void geglu_scalar(const float* gate, const float* up, float* out, int64_t n) noexcept;
void attention_values_scalar(const float* weights, const KvHeadView& kv, int32_t head_dim,
                             float* out) noexcept;
void round_to_f16_scalar(const float* x, uint16_t* out, int64_t n) noexcept;

}  // namespace inference::kernels::detail
