// kernels/cpu/kernel_table.hpp — the per-type dot-product kernels of one SIMD level, and the
// scalar reference functions every level falls back to.
//
// Each SIMD level (scalar, AVX2, AVX-512) provides one constant KernelTable; the dispatcher in
// simd_dispatch.cpp picks one from CPUID. The tables hold plain function pointers so that code
// compiled with -mavx512* is only ever reached through a table the CPU was checked for.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/attention_batch.hpp"
#include "kernels/cpu/gemm_panel.hpp"
#include "kernels/cpu/gemv_kernel.hpp"

namespace inference::kernels::detail {

/// dot(one weight row, one activation row) over n elements. `w` is in the weight format, `a` in
/// the paired activation format (see activation_type()).
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);

/// One weight row against `nt` (1..kMaxTileTokens) activation rows `a_stride` bytes apart:
/// out[t] = dot(w, a + t * a_stride). Reads the weight row once for all tokens (prefill).
using VecDotMultiFn = void (*)(int64_t n, const void* w, const void* a, size_t a_stride, int nt,
                               float* out);

inline constexpr int kMaxTileTokens = 4;

/// Row-vector kernels of the K-quants (gemv_k_*.cpp): y[t * y_stride + r] = row r of `w` · token
/// t's Q8_K row (at a + t * a_stride), r < rows, t < n_tokens; per-token results do not depend
/// on n_tokens. Equal to the dot products up to float summation order.
using GemvKFn = void (*)(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                         const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                         int64_t y_stride);
inline constexpr int kTypeSlots = 31;  ///< ggml type ids 0..30 (BF16 = 30)

struct KernelTable {
  const char* name;
  VecDotFn dot[kTypeSlots];
  VecDotMultiFn dot_multi[kTypeSlots];  ///< null: the dispatcher loops over dot
  /// Prefill GEMM over weight panels (gemm_panel.hpp); null: prefill uses the dot_multi tiles.
  GemmPanelFn gemm_panel = nullptr;
  /// Bit i set: gemm_panel handles weight type id i (the others use the dot tiles).
  uint32_t gemm_panel_types = 0;
  /// gemm_panel also reads the packed forms of packed_panel.hpp (else: byte panels only).
  bool gemm_panel_packed_forms = false;
  bool has_gemm_panel(formats::GgmlType type) const noexcept {
    const auto id = static_cast<uint32_t>(type);
    return id < 32 && (gemm_panel_types >> id & 1u) != 0;
  }
  /// SIMD panel unpacking (gemm_panel.hpp) per weight type; null: the scalar unpacker.
  PanelUnpackFn unpack_panel[kTypeSlots] = {};
  /// Row-vector kernels for small batches (gemv_kernel.hpp); null: the dot products.
  GemvFn gemv[kTypeSlots] = {};
  /// Row-vector kernels for weights in the interleaved layout (interleaved_rows.hpp); weights
  /// are interleaved at load only where the active table has one.
  GemvFn gemv_interleaved[kTypeSlots] = {};
  /// The interleaved kernels read a partial run of 4 or 8 lanes packed (several steps per
  /// vector: transpose_activation_runs' `packed_partial`); else every step takes 64 bytes.
  bool packed_partial_runs = false;
  /// Row-vector kernels of the K-quants for small batches (decode); null: the dot products.
  GemvKFn gemv_k[kTypeSlots] = {};
  /// Activation quantisers (equal bits to quantize_activation.cpp); null: the scalar ones.
  void (*quantize_q8_0)(const float* x, void* out, int64_t n) noexcept = nullptr;
  void (*quantize_q8_1)(const float* x, void* out, int64_t n) noexcept = nullptr;
  void (*quantize_q8_k)(const float* x, void* out, int64_t n) noexcept = nullptr;
  /// Prompt-block attention (attention_batch.hpp); null: attend_head per query.
  AttendTokensFn attend_tokens = nullptr;
};

const KernelTable& scalar_kernel_table() noexcept;
/// nullptr when this build has no such variant (non-x86 builds).
const KernelTable* avx2_kernel_table() noexcept;
const KernelTable* avx512_kernel_table() noexcept;

// Scalar reference dot products (vec_dot_scalar.cpp). Integer sums per block, then one float
// multiply-add per block in block order: SIMD variants that keep this order are bit-identical.
float vec_dot_f32(int64_t n, const void* w, const void* a);
float vec_dot_f16(int64_t n, const void* w, const void* a);
float vec_dot_bf16(int64_t n, const void* w, const void* a);
float vec_dot_q4_0(int64_t n, const void* w, const void* a);
float vec_dot_q4_1(int64_t n, const void* w, const void* a);
float vec_dot_q5_0(int64_t n, const void* w, const void* a);
float vec_dot_q5_1(int64_t n, const void* w, const void* a);
float vec_dot_q8_0(int64_t n, const void* w, const void* a);
float vec_dot_q2_k(int64_t n, const void* w, const void* a);
float vec_dot_q3_k(int64_t n, const void* w, const void* a);
float vec_dot_q4_k(int64_t n, const void* w, const void* a);
float vec_dot_q5_k(int64_t n, const void* w, const void* a);
float vec_dot_q6_k(int64_t n, const void* w, const void* a);
/// MLX affine 8-bit blocks (mlx_affine8.hpp) with float32 activations (vec_dot_mlx_*.cpp).
float vec_dot_mlx_affine8(int64_t n, const void* w, const void* a);

// This thread's scratch for the kernels (the prompt GEMM's panels, the K-quant row kernels'
// activation copy): at least `bytes`, 64-byte aligned, grown on first use and kept, so no
// allocation per call after the first; nullptr if it cannot be allocated. Callers must not hold
// it across another kernel call on the same thread. Defined in gemm.cpp, outside the SIMD
// files, which must not instantiate std templates.
std::byte* thread_scratch_memory(size_t bytes) noexcept;

#if defined(INFERENCE_KERNELS_X86)
// AVX2 Q2_K/Q3_K dot products (vec_dot_avx2.cpp), shared by the AVX2 and AVX-512 tables; only
// ever called through those tables, after the CPUID check.
float vec_dot_q2_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q3_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_mlx_affine8_avx2(int64_t n, const void* w, const void* a);
float vec_dot_mlx_affine8_avx512(int64_t n, const void* w, const void* a);
// The AVX2 K-quant row-vector kernels (gemv_k_avx2.cpp), in the AVX2 table.
void gemv_q4_k_avx2(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
                    size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride);
void gemv_q5_k_avx2(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
                    size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride);
void gemv_q6_k_avx2(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
                    size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride);
// AVX-512 activation quantisers (quantize_activation_avx512.cpp), in the AVX-512 table.
void quantize_activation_q8_0_avx512(const float* x, void* out, int64_t n) noexcept;
void quantize_activation_q8_1_avx512(const float* x, void* out, int64_t n) noexcept;
void quantize_activation_q8_k_avx512(const float* x, void* out, int64_t n) noexcept;
// AVX-512 panel unpacking (gemm_unpack_avx512.cpp), in the AVX-512 table.
void unpack_panel_avx512(formats::GgmlType type, const void* w, size_t row_bytes, int64_t rows,
                         int64_t cols, Panel& panel);
// The AVX2 panel GEMM (gemm_avx2.cpp), in the AVX2 table.
void gemm_panel_avx2(const Panel& p, const ActivationPlane& act, int64_t n_tokens,
                     int64_t valid_rows, float* y, int64_t y_stride);
// The AVX2 row-vector kernels (gemv_avx2.cpp), in the AVX2 table.
void gemv_q5_0_avx2(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                    int64_t n_tokens, float* y, int64_t y_stride);
void gemv_q4_0_avx2(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                    int64_t n_tokens, float* y, int64_t y_stride);
// The same for Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q4_K / Q5_K rows in the interleaved layout
// (gemv_interleaved_avx2.cpp).
void gemv_interleaved_q4_0_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride);
void gemv_interleaved_q4_1_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride);
void gemv_interleaved_q5_0_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride);
void gemv_interleaved_q5_1_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride);
void gemv_interleaved_q4_k_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride);
void gemv_interleaved_q5_k_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride);
// The AVX-512 VNNI row-vector kernels (gemv_avx512.cpp) and panel GEMM (gemm_avx512.cpp), in
// the AVX-512 table.
void gemv_q8_0_avx512(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride);
void gemv_q5_0_avx512(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride);
void gemv_q4_0_avx512(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride);
// The same for Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 / Q4_K / Q5_K rows in the interleaved layout
// (gemv_interleaved_avx512.cpp).
void gemv_interleaved_q4_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride);
void gemv_interleaved_q4_1_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride);
void gemv_interleaved_q5_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride);
void gemv_interleaved_q5_1_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride);
void gemv_interleaved_q8_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride);
void gemv_interleaved_q4_k_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride);
void gemv_interleaved_q5_k_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride);
void gemv_q4_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride);
void gemv_q5_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride);
void gemv_q6_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride);
void gemm_panel_avx512(const Panel& p, const ActivationPlane& act, int64_t n_tokens,
                       int64_t valid_rows, float* y, int64_t y_stride);
#endif

}  // namespace inference::kernels::detail
