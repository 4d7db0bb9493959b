// kernels/cpu/matmul.cpp — activation quantisation, then weight rows split across the pool.
//
// Decode (one token): each thread takes a contiguous range of weight rows, so every weight byte
// is read exactly once per token by one core. Prefill: the same row split, but each thread walks
// its rows in blocks and, per block, multiplies up to kMaxTileTokens activation rows per weight
// row load (dot_multi), so weights come from memory once per tile instead of once per token.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "inference/error.hpp"
#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemv.hpp"
#include "kernels/cpu/interleaved_rows.hpp"
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/quantize_activation.hpp"
#include "kernels/cpu/row_shares.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

using QuantizeFn = void (*)(const float*, void*, int64_t) noexcept;

struct ActivationFormat {
  GgmlType type;
  int block;            ///< elements per block
  size_t block_bytes;   ///< bytes per block
  QuantizeFn quantize;  ///< nullptr for F32 (used in place)
};

ActivationFormat activation_format(GgmlType weight_type) noexcept {
  switch (weight_type) {
    case GgmlType::F16:
      return {GgmlType::F16, 1, 2, quantize_activation_f16};
    case GgmlType::BF16:
      return {GgmlType::BF16, 1, 2, quantize_activation_bf16};
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0:
      return {GgmlType::Q8_0, kQK32, sizeof(BlockQ8_0), quantize_activation_q8_0};
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return {GgmlType::Q8_1, kQK32, sizeof(BlockQ8_1), quantize_activation_q8_1};
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return {GgmlType::Q8_K, kQKK, sizeof(BlockQ8_K), quantize_activation_q8_k};
    default:
      return {GgmlType::F32, 1, 4, nullptr};
  }
}

int64_t weight_block(GgmlType type) noexcept {
  switch (type) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return kQKK;
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
      return 1;
    default:
      return kQK32;
  }
}

// Rows per block of the prefill loop: enough to amortise the tile setup, few enough that the
// block's weights stay in L1/L2 while every token tile passes over them.
constexpr int64_t kRowBlock = 16;

struct MatmulJob {
  const detail::KernelTable* table;
  const WeightView* w;
  const std::byte* act;  ///< first activation row
  size_t act_stride;     ///< bytes between activation rows
  int64_t n_tokens;
  float* y;
  int64_t y_stride;
  // Activation quantisation (not used for F32 weights).
  const float* x = nullptr;
  int64_t x_stride = 0;
  QuantizeFn quantize = nullptr;
  std::byte* scratch = nullptr;
};

// The SIMD level's activation quantiser for this format if it has one (equal bits).
QuantizeFn simd_quantizer(const detail::KernelTable& table, const ActivationFormat& f) noexcept {
  QuantizeFn simd = nullptr;
  if (f.type == GgmlType::Q8_0) simd = table.quantize_q8_0;
  if (f.type == GgmlType::Q8_1) simd = table.quantize_q8_1;
  if (f.type == GgmlType::Q8_K) simd = table.quantize_q8_k;
  return simd != nullptr ? simd : f.quantize;
}

void quantize_tokens(const MatmulJob& job, int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; ++t) {
    job.quantize(job.x + t * job.x_stride, job.scratch + t * job.act_stride, job.w->cols);
  }
}

// Quantises x (n_tokens rows, x_stride floats apart) into `scratch` for job's weights in format
// f and points job's activations at them; on the calling thread up to `serial_tokens` rows.
void quantize_activations(ThreadPool& pool, MatmulJob& job, const ActivationFormat& f,
                          const float* x, int64_t x_stride, void* scratch, int64_t serial_tokens) {
  job.act = static_cast<const std::byte*>(scratch);
  job.act_stride = static_cast<size_t>(job.w->cols / f.block) * f.block_bytes;
  job.x = x;
  job.x_stride = x_stride;
  job.quantize = simd_quantizer(*job.table, f);
  job.scratch = static_cast<std::byte*>(scratch);
  if (job.n_tokens <= serial_tokens || pool.size() == 1) {
    quantize_tokens(job, 0, job.n_tokens);
  } else {
    const MatmulJob* j = &job;  // one pointer: the std::function stores it without allocating
    pool.parallel_for(job.n_tokens, [j](int64_t t0, int64_t t1) { quantize_tokens(*j, t0, t1); });
  }
}

void run_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  const int type = static_cast<int>(job.w->type);
  const detail::VecDotFn dot = job.table->dot[type];
  const detail::VecDotMultiFn multi = job.table->dot_multi[type];
  const int64_t cols = job.w->cols;
  const size_t row_bytes = job.w->row_bytes;
  // The K-quants: the row-vector kernels (no per-block reduction), in pieces of the batch sizes
  // they take. Every batch that reaches here goes through them, so a token's bits are the same
  // alone, in a decode batch of any size and in a forced decode path longer than a piece.
  if (const detail::GemvKFn gemv_k = job.table->gemv_k[type]; gemv_k != nullptr) {
    const int64_t piece = std::max<int64_t>(1, detail::gemm_min_tokens(job.w->type) - 1);
    // Interleaved rows (a SIMD level forced after load) in the file's layout, kRowBlock at a time.
    const int64_t rows_per_pass = job.w->layout == RowLayout::interleaved ? kRowBlock : r1 - r0;
    for (int64_t rb = r0; rb < r1; rb += rows_per_pass) {
      const int64_t rb_end = std::min(r1, rb + rows_per_pass);
      const std::byte* w = detail::plain_weight_rows(*job.w, rb, rb_end - rb);
      for (int64_t t0 = 0; t0 < job.n_tokens; t0 += piece) {
        const int64_t nt = std::min(piece, job.n_tokens - t0);
        gemv_k(w, row_bytes, rb_end - rb, cols, job.act + t0 * static_cast<int64_t>(job.act_stride),
               job.act_stride, nt, job.y + t0 * job.y_stride + rb, job.y_stride);
      }
    }
    return;
  }
  // Interleaved rows reach the dot products only when the SIMD level changed after they were
  // laid out: read back in the file's layout, one row at a time.
  auto row = [&job](int64_t r) { return detail::plain_weight_rows(*job.w, r, 1); };
  if (job.n_tokens == 1) {
    for (int64_t r = r0; r < r1; ++r) job.y[r] = dot(cols, row(r), job.act);
    return;
  }
  for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
    const int64_t rb_end = std::min(r1, rb + kRowBlock);
    for (int64_t t0 = 0; t0 < job.n_tokens; t0 += detail::kMaxTileTokens) {
      const int nt = static_cast<int>(std::min<int64_t>(detail::kMaxTileTokens, job.n_tokens - t0));
      const std::byte* a = job.act + t0 * job.act_stride;
      for (int64_t r = rb; r < rb_end; ++r) {
        const std::byte* wrow = row(r);
        float out[detail::kMaxTileTokens];
        if (multi != nullptr) {
          multi(cols, wrow, a, job.act_stride, nt, out);
        } else {
          for (int t = 0; t < nt; ++t) out[t] = dot(cols, wrow, a + t * job.act_stride);
        }
        for (int t = 0; t < nt; ++t) job.y[(t0 + t) * job.y_stride + r] = out[t];
      }
    }
  }
}

}  // namespace

bool matmul_supported(GgmlType type) noexcept {
  const auto id = static_cast<uint32_t>(type);
  return id < static_cast<uint32_t>(detail::kTypeSlots) &&
         detail::scalar_kernel_table().dot[id] != nullptr;
}

GgmlType activation_type(GgmlType weight_type) noexcept {
  return activation_format(weight_type).type;
}

size_t activation_scratch_bytes(GgmlType weight_type, int64_t cols, int64_t n_tokens) noexcept {
  const ActivationFormat f = activation_format(weight_type);
  if (f.quantize == nullptr || cols <= 0 || n_tokens <= 0) return 0;  // F32 is used in place
  return static_cast<size_t>(cols / f.block) * f.block_bytes * static_cast<size_t>(n_tokens) +
         detail::gemm_scratch_bytes(weight_type, cols, n_tokens) +
         detail::gemv_scratch_bytes(weight_type, cols, n_tokens);
}

size_t activation_scratch_bytes(GgmlType weight_type, int64_t cols, int64_t n_tokens,
                                MatmulPath path) noexcept {
  const ActivationFormat f = activation_format(weight_type);
  if (path == MatmulPath::automatic || f.quantize == nullptr || cols <= 0 || n_tokens <= 0) {
    return activation_scratch_bytes(weight_type, cols, n_tokens);
  }
  const size_t rows =
      static_cast<size_t>(cols / f.block) * f.block_bytes * static_cast<size_t>(n_tokens);
  if (path == MatmulPath::prompt) {
    return rows + detail::gemm_scratch_bytes_any_batch(weight_type, cols, n_tokens);
  }
  // decode: the row-vector kernels take the rows in pieces below the GEMM threshold.
  const int64_t gemm_min = detail::gemm_min_tokens(weight_type);
  const int64_t piece = gemm_min > 1 ? std::min(n_tokens, gemm_min - 1) : n_tokens;
  return rows + detail::gemv_scratch_bytes(weight_type, cols, piece);
}

void matmul(ThreadPool& pool, const WeightView& w, const float* x, int64_t x_stride,
            int64_t n_tokens, float* y, int64_t y_stride, void* scratch, MatmulPath path) {
  if (n_tokens <= 0 || w.rows <= 0) return;
  // Checked here, once per call, so that a caller's mistake is an error and not a jump through
  // a null kernel pointer or a read past the last block.
  if (!matmul_supported(w.type)) {
    throw Error(ErrorCode::unsupported, "matmul: weights of tensor type id " +
                                            std::to_string(static_cast<uint32_t>(w.type)) +
                                            " are not supported by the CPU kernels");
  }
  const ActivationFormat f = activation_format(w.type);
  if (w.cols <= 0 || w.cols % weight_block(w.type) != 0) {
    throw Error(ErrorCode::invalid_argument,
                "matmul: " + std::to_string(w.cols) + " columns is not a whole number of blocks");
  }
  MatmulJob job{&detail::active_kernel_table(), &w, nullptr, 0, n_tokens, y, y_stride};
  if (f.quantize == nullptr) {
    job.act = reinterpret_cast<const std::byte*>(x);
    job.act_stride = static_cast<size_t>(x_stride) * sizeof(float);
  } else {
    quantize_activations(pool, job, f, x, x_stride, scratch, 1);
    std::byte* extra = job.scratch + job.act_stride * static_cast<size_t>(n_tokens);
    if (job.table->has_gemm_panel(w.type) &&
        (path == MatmulPath::prompt ||
         (path == MatmulPath::automatic && detail::gemm_wanted(w.type, n_tokens)))) {
      detail::gemm(pool, *job.table, w, job.act, job.act_stride, n_tokens, y, y_stride, extra);
      return;
    }
    const bool row_vectors =
        detail::gemv_kernel(*job.table, w) != nullptr && detail::gemv_wanted(w.type, 1) &&
        (path == MatmulPath::decode ||
         (path == MatmulPath::automatic && detail::gemv_wanted(w.type, n_tokens)));
    if (row_vectors) {
      // Pieces below the GEMM threshold (one piece unless a forced decode batch is larger);
      // each token's arithmetic is the same in any piece.
      const int64_t gemm_min = detail::gemm_min_tokens(w.type);
      const int64_t piece = gemm_min > 1 ? gemm_min - 1 : n_tokens;
      for (int64_t t0 = 0; t0 < n_tokens; t0 += piece) {
        const int64_t nt = std::min(piece, n_tokens - t0);
        detail::gemv(pool, *job.table, w, job.act + job.act_stride * static_cast<size_t>(t0),
                     job.act_stride, nt, y + t0 * y_stride, y_stride, extra);
      }
      return;
    }
  }
  detail::RowShares shares;
  shares.reset(w.rows, w.row_bytes, pool.size());
  struct Job {
    const MatmulJob* rows;
    detail::RowShares* shares;
  } both{&job, &shares};
  const Job* j = &both;
  pool.run([j](int thread, int) {
    j->shares->for_each(thread, [j](int64_t r0, int64_t r1) { run_rows(*j->rows, r0, r1); });
  });
}

bool interleaving_pays(GgmlType type) noexcept {
  // INFERENCE_INTERLEAVE=0 keeps the file's layout: the A/B switch of decode benchmarks.
  static const bool disabled = [] {
    const char* env = std::getenv("INFERENCE_INTERLEAVE");
    return env != nullptr && std::string_view(env) == "0";
  }();
  const auto id = static_cast<size_t>(type);
  return !disabled && detail::has_interleaved_form(type) &&
         detail::active_kernel_table().gemv_interleaved[id] != nullptr;
}

void interleave_weight_rows(GgmlType type, void* data, size_t row_bytes, int64_t cols, int64_t r0,
                            int64_t r1) {
  if (!detail::has_interleaved_form(type) || cols <= 0 || cols % weight_block(type) != 0)
    throw Error(ErrorCode::invalid_argument,
                "interleave_weight_rows: no interleaved layout for "
                "tensor type id " +
                    std::to_string(static_cast<uint32_t>(type)));
  for (int64_t r = r0; r < r1; ++r) {
    detail::interleave_row(type, static_cast<std::byte*>(data) + static_cast<size_t>(r) * row_bytes,
                           cols / kQK32);
  }
}

void dequantize_weight_row(const WeightView& w, int64_t r, float* out) {
  dequantize_row(w.type, detail::plain_weight_rows(w, r, 1), out, w.cols);
}

struct PackedWeight::Impl {
  detail::PackedPanels panels;
};

PackedWeight::PackedWeight(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PackedWeight::~PackedWeight() = default;

std::unique_ptr<PackedWeight> PackedWeight::pack(ThreadPool& pool, const WeightView& w) {
  if (!matmul_supported(w.type) || w.cols <= 0 || w.cols % weight_block(w.type) != 0)
    return nullptr;
  auto impl = std::make_unique<Impl>();
  if (!detail::pack_panels(pool, detail::active_kernel_table(), w, impl->panels)) return nullptr;
  return std::unique_ptr<PackedWeight>(new PackedWeight(std::move(impl)));
}

bool PackedWeight::has_panel_form(GgmlType type) noexcept {
  return detail::active_kernel_table().has_gemm_panel(type);
}

GgmlType PackedWeight::type() const noexcept {
  return impl_->panels.type;
}
int64_t PackedWeight::rows() const noexcept {
  return impl_->panels.rows;
}
int64_t PackedWeight::cols() const noexcept {
  return impl_->panels.cols;
}
size_t PackedWeight::bytes() const noexcept {
  return impl_->panels.bytes;
}

void matmul_packed(ThreadPool& pool, const PackedWeight& w, const float* x, int64_t x_stride,
                   int64_t n_tokens, float* y, int64_t y_stride, void* scratch) {
  if (n_tokens <= 0) return;
  const detail::PackedPanels& panels = w.impl_->panels;
  const detail::KernelTable* table = &detail::active_kernel_table();
  if (!table->has_gemm_panel(panels.type) ||
      (panels.packed_forms && !table->gemm_panel_packed_forms)) {
    throw Error(ErrorCode::unsupported, std::string("matmul_packed: the active SIMD path (") +
                                            simd_path_name() +
                                            ") has no panel GEMM for these weights");
  }
  const WeightView view{panels.type, nullptr, panels.rows, panels.cols, 0};
  MatmulJob job{table, &view, nullptr, 0, n_tokens, y, y_stride};
  // A decode-sized batch (one GEMM token tile) is not worth a pool hand-off.
  quantize_activations(pool, job, activation_format(panels.type), x, x_stride, scratch,
                       detail::kActTile);
  detail::gemm_packed(pool, *table, panels, job.act, job.act_stride, n_tokens, y, y_stride,
                      job.scratch + job.act_stride * static_cast<size_t>(n_tokens));
}

void matmul_shared_input(ThreadPool& pool, const WeightView* const* ws, float* const* ys, int count,
                         const float* x, int64_t n_tokens, void* scratch) {
  if (count <= 0 || n_tokens <= 0) return;
  const ActivationFormat f = activation_format(ws[0]->type);
  bool fuse = n_tokens == 1 && count <= kMaxSharedInput;
  for (int i = 0; i < count && fuse; ++i) {
    const WeightView& w = *ws[i];
    fuse = matmul_supported(w.type) && w.cols == ws[0]->cols && w.rows > 0 &&
           w.cols % weight_block(w.type) == 0 && activation_format(w.type).type == f.type;
  }
  if (!fuse) {
    // Prefill batches take the panel GEMM per weight; mixed formats need their own activations.
    for (int i = 0; i < count; ++i) {
      matmul(pool, *ws[i], x, ws[i]->cols, n_tokens, ys[i], ws[i]->rows, scratch);
    }
    return;
  }
  const detail::KernelTable& table = detail::active_kernel_table();
  const int64_t cols = ws[0]->cols;
  struct SharedJob {
    MatmulJob rows[kMaxSharedInput];
    detail::RowShares shares[kMaxSharedInput];
    bool gemv[kMaxSharedInput];
    detail::GemvActivations gemv_act;
    int count;
  } shared;  // not value-initialised: the shares are reset below, the rest set per weight
  shared.count = count;
  const std::byte* act = reinterpret_cast<const std::byte*>(x);
  size_t act_stride = static_cast<size_t>(cols) * sizeof(float);
  if (f.quantize != nullptr) {
    // Quantised once for all the weights: the saving over separate matmul() calls, with the
    // pool hand-offs.
    act = static_cast<const std::byte*>(scratch);
    act_stride = static_cast<size_t>(cols / f.block) * f.block_bytes;
    simd_quantizer(table, f)(x, scratch, cols);
  }
  int first_gemv = -1;
  bool any_interleaved = false;
  for (int i = 0; i < count; ++i) {
    const WeightView& w = *ws[i];
    shared.rows[i] = MatmulJob{&table, &w, act, act_stride, 1, ys[i], w.rows};
    shared.shares[i].reset(w.rows, w.row_bytes, pool.size());
    shared.gemv[i] = f.quantize != nullptr && detail::gemv_kernel(table, w) != nullptr &&
                     detail::gemv_wanted(w.type, 1);
    if (shared.gemv[i] && first_gemv < 0) first_gemv = i;
    any_interleaved |= shared.gemv[i] && w.layout == RowLayout::interleaved;
  }
  if (first_gemv >= 0) {
    shared.gemv_act = detail::prepare_gemv_activations(
        table, ws[first_gemv]->type, cols, act, act_stride, 1,
        static_cast<std::byte*>(scratch) + act_stride, any_interleaved);
  }
  SharedJob* j = &shared;
  pool.run([j](int thread, int) {
    for (int i = 0; i < j->count; ++i) {
      const MatmulJob& job = j->rows[i];
      const bool gemv = j->gemv[i];
      j->shares[i].for_each(thread, [&](int64_t r0, int64_t r1) {
        if (gemv) {
          detail::gemv_rows(*job.table, *job.w, j->gemv_act, 1, job.y, job.y_stride, r0, r1);
        } else {
          run_rows(job, r0, r1);
        }
      });
    }
  });
}

}  // namespace inference::kernels
