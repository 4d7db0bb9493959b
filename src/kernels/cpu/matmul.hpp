// kernels/cpu/matmul.hpp — quantised weight × activation products, the hot path of the engine.
//
// Weights stay in their GGUF block format, used in place. Activations are quantised once per
// matmul into the format the weight type pairs with (llama.cpp's vec_dot_type: Q8_0 for
// Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, F16 for F16, BF16 for BF16, F32
// for F32) and combined with integer dot products, which both matches the reference's rounding
// and is the fast way. Every kernel has a scalar reference; AVX2 and AVX-512 variants are chosen
// at run time from CPUID. No allocation: callers provide scratch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "formats/ggml_types.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::kernels {

using formats::GgmlType;

/// How a matrix's rows hold their blocks: as the file stores them, or (Q4_0/Q4_1/Q5_0/Q5_1/
/// Q8_0, after interleave_weight_rows) with runs of 16 blocks interleaved for the row-vector
/// kernels (kernels/cpu/interleaved_rows.hpp). Same bytes per row either way.
enum class RowLayout : uint8_t { ggml, interleaved };

/// A weight matrix as stored: `rows` rows of `cols` elements in `type` blocks, row-major,
/// `row_bytes` apart. (GGUF ne[0] = cols, ne[1] = rows.)
struct WeightView {
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  RowLayout layout = RowLayout::ggml;
};

/// Whether the active SIMD level decodes `type` faster from interleaved rows (Q4_0/Q4_1/
/// Q5_0/Q5_1 with AVX-512 VNNI or AVX2, Q8_0 with AVX-512 VNNI). Every kernel reads both layouts;
/// this only says which one pays. INFERENCE_INTERLEAVE=0 in the environment makes it false (A/B
/// measurements).
bool interleaving_pays(GgmlType type) noexcept;

/// Rewrites rows [r0, r1) of the writable `type` matrix at `data` (`cols` columns, `row_bytes`
/// apart) from the file's layout to RowLayout::interleaved; its views must then say so.
/// Only for types where interleaving_pays() could be true (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0);
/// anything
/// else is Error(invalid_argument).
void interleave_weight_rows(GgmlType type, void* data, size_t row_bytes, int64_t cols, int64_t r0,
                            int64_t r1);

/// Whether this build can multiply with weights of `type`.
bool matmul_supported(GgmlType type) noexcept;

/// The activation format `type` weights are multiplied against.
GgmlType activation_type(GgmlType weight_type) noexcept;

/// Which kernels a matmul uses for its activation rows.
///
/// `automatic` picks by batch size (row-vector/dot kernels for small batches, the panel GEMM
/// from gemm_min_tokens), so a row's rounding depends on how many rows share the call. The
/// other two fix the kernel whatever the batch size, so that each row's result is the same
/// bits as when it runs alone — what continuous batching needs for "same request, same
/// tokens, whatever else is in the batch":
/// - `decode`: the row-vector / dot-product kernels (a batch of 1 takes them anyway);
/// - `prompt`: the panel GEMM where the weight type has a panel form (prompt chunks of any
///   size), else the dot-product tiles.
enum class MatmulPath { automatic, decode, prompt };

/// Bytes needed to hold `n_tokens` activation rows of length `cols` quantised for `weight_type`.
size_t activation_scratch_bytes(GgmlType weight_type, int64_t cols, int64_t n_tokens) noexcept;
/// The same for a fixed path (enough for any batch of up to n_tokens rows on that path).
size_t activation_scratch_bytes(GgmlType weight_type, int64_t cols, int64_t n_tokens,
                                MatmulPath path) noexcept;

/// y[t][r] = dot(w row r, x[t]) for t < n_tokens, r < w.rows.
/// x: n_tokens rows of w.cols floats (stride x_stride floats); y: n_tokens rows of w.rows floats
/// (stride y_stride). `scratch` must hold activation_scratch_bytes(w.type, w.cols, n_tokens).
/// Work is split over the pool's threads by rows (decode) or tiles (prefill).
/// Throws inference::Error for a type matmul_supported() rejects or a column count that is not
/// a whole number of blocks (checked once per call; the kernels themselves never throw).
/// `path` fixes the kernels (see MatmulPath); `scratch` must then hold
/// activation_scratch_bytes(w.type, w.cols, n_tokens, path).
void matmul(ThreadPool& pool, const WeightView& w, const float* x, int64_t x_stride,
            int64_t n_tokens, float* y, int64_t y_stride, void* scratch,
            MatmulPath path = MatmulPath::automatic);

/// The most weights matmul_shared_input() fuses into one pass.
inline constexpr int kMaxSharedInput = 4;

/// ys[i] = ws[i] × x for `count` weights with the same input (a layer's q/k/v projections, or
/// gate/up): y strides are each weight's rows, x's stride its cols. For a decode (one token)
/// whose weights share the activation format, x is quantised once and all products run as one
/// pool job, each thread taking its share of every weight: one quantisation and one hand-off
/// instead of `count`. Otherwise (prefill, mixed formats, more than kMaxSharedInput weights) one
/// matmul() per weight. Either way the results are bit-identical to separate matmul() calls.
/// `scratch`: the largest activation_scratch_bytes() of the weights. Throws like matmul().
void matmul_shared_input(ThreadPool& pool, const WeightView* const* ws, float* const* ys, int count,
                         const float* x, int64_t n_tokens, void* scratch);

/// A weight matrix kept in the prefill GEMM's panel form (about 1.25 bytes per weight; on AVX-512
/// the smaller forms of packed_panel.hpp, 0.75–1.25),
/// for callers that multiply the same weights by many tokens again and again (LoRA training):
/// matmul_packed then skips the unpacking matmul's panel path does on every call. The panels
/// are a copy: the source weights may go away after pack().
class PackedWeight {
 public:
  /// Null when the active SIMD level has no panel GEMM for w.type, or memory runs out.
  static std::unique_ptr<PackedWeight> pack(ThreadPool& pool, const WeightView& w);
  /// Whether the active SIMD level packs weights of this type (pack() then fails only for
  /// memory or a malformed shape).
  static bool has_panel_form(GgmlType type) noexcept;
  ~PackedWeight();
  PackedWeight(const PackedWeight&) = delete;
  PackedWeight& operator=(const PackedWeight&) = delete;

  GgmlType type() const noexcept;
  int64_t rows() const noexcept;
  int64_t cols() const noexcept;
  size_t bytes() const noexcept;

 private:
  struct Impl;
  explicit PackedWeight(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend void matmul_packed(ThreadPool&, const PackedWeight&, const float*, int64_t, int64_t,
                            float*, int64_t, void*);
};

/// matmul(pool, w, …, MatmulPath::prompt) for the packed w: the same bits. `scratch` must hold
/// activation_scratch_bytes(w.type(), w.cols(), n_tokens, MatmulPath::prompt). Throws
/// Error(unsupported) if the active SIMD level (force_simd_path) has no panel GEMM for the type.
void matmul_packed(ThreadPool& pool, const PackedWeight& w, const float* x, int64_t x_stride,
                   int64_t n_tokens, float* y, int64_t y_stride, void* scratch);

/// Dequantises one row of `n` elements of `type` into `out` (n a multiple of the block size).
void dequantize_row(GgmlType type, const void* src, float* out, int64_t n);

/// Row r of w as w.cols floats, in either layout.
void dequantize_weight_row(const WeightView& w, int64_t r, float* out);

/// Which SIMD path the dispatcher picked ("avx512-vnni", "avx2", "scalar", …).
const char* simd_path_name() noexcept;

/// Force a SIMD level for tests: "scalar", "avx2", "avx512"; returns false if this CPU cannot
/// run it. "" restores automatic selection.
bool force_simd_path(const char* name) noexcept;

}  // namespace inference::kernels
