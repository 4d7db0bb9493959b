// kernels/cpu/gemm.cpp — the panel GEMM driver: per-token activation sums, then each thread
// unpacks blocks of its weight rows into a panel and runs every token over it.
#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "kernels/cpu/activation_sums.hpp"
#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemm_panel.hpp"
#include "kernels/cpu/interleaved_rows.hpp"
#include "kernels/cpu/packed_panel.hpp"

namespace inference::kernels::detail {
namespace {

// Rows per panel: the panel (cols bytes per row) should stay in L2 next to the activations of
// a token tile, and be tall enough that the activations, streamed once per panel, cost little.
constexpr size_t kPanelTargetBytes = 512 * 1024;
constexpr int64_t kMaxPanelRows = 256;

int64_t panel_rows(int64_t cols) {
  const int64_t rows = static_cast<int64_t>(kPanelTargetBytes) / std::max<int64_t>(cols, 1);
  return std::clamp<int64_t>(rows / kPanelLanes * kPanelLanes, kPanelLanes, kMaxPanelRows);
}

struct GemmJob {
  const KernelTable* table;
  const WeightView* w;
  const std::byte* act;  ///< the activation blocks, act_stride bytes per token
  size_t act_stride;
  ActivationPlane plane;
  int8_t* quants;  ///< = plane.quants, writable for the copy pass
  float* scale;    ///< = plane.scale
  float* sum;      ///< = plane.sum
  int group;
  PanelUnpackFn simd_unpack;  ///< null: scalar unpacking
  int64_t n_tokens;
  float* y;
  int64_t y_stride;
};

// The plane's tile `tile`: each token's group quants copied out of its activation blocks, its
// scales and sums; slots past the last token zero.
void fill_tile(const GemmJob& job, int64_t tile) {
  const int64_t groups = job.plane.groups;
  const ActivationLayout layout = activation_layout(job.w->type);
  const size_t g_bytes = static_cast<size_t>(job.group);
  int8_t* quants = job.quants + tile * groups * kActTile * job.group;
  float* scale = job.scale + tile * groups * kActTile;
  float* sum = job.sum + tile * groups * kActTile;
  for (int slot = 0; slot < kActTile; ++slot) {
    const int64_t t = tile * kActTile + slot;
    if (t >= job.n_tokens) {
      for (int64_t g = 0; g < groups; ++g) {
        std::memset(quants + (g * kActTile + slot) * job.group, 0, g_bytes);
        scale[g * kActTile + slot] = 0.f;
        sum[g * kActTile + slot] = 0.f;
      }
      continue;
    }
    const std::byte* row = job.act + static_cast<size_t>(t) * job.act_stride;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t e = g * job.group;
      const std::byte* src =
          row + static_cast<size_t>(e >> layout.block_shift) * layout.block_bytes +
          layout.quants_offset + static_cast<size_t>(e & ((int64_t{1} << layout.block_shift) - 1));
      std::memcpy(quants + (g * kActTile + slot) * job.group, src, g_bytes);
    }
    activation_group_sums(job.w->type, job.group, row, groups, scale + slot, sum + slot, kActTile);
  }
}

// Fallback for a thread whose panel memory could not be allocated: the dot-product tiles.
void rows_by_dots(const GemmJob& job, int64_t r0, int64_t r1) {
  const VecDotFn dot = job.table->dot[static_cast<int>(job.w->type)];
  for (int64_t r = r0; r < r1; ++r) {
    const std::byte* row = plain_weight_rows(*job.w, r, 1);
    for (int64_t t = 0; t < job.n_tokens; ++t) {
      const std::byte* a = job.act + static_cast<size_t>(t) * job.act_stride;
      job.y[t * job.y_stride + r] = dot(job.w->cols, row, a);
    }
  }
}

void run_thread(const GemmJob& job, int64_t r0, int64_t r1) {
  const WeightView& w = *job.w;
  const int64_t step =
      std::min(panel_rows(w.cols), (r1 - r0 + kPanelLanes - 1) / kPanelLanes * kPanelLanes);
  std::byte* memory = thread_scratch_memory(panel_bytes(w.type, step, w.cols));
  if (memory == nullptr) return rows_by_dots(job, r0, r1);
  for (int64_t p0 = r0; p0 < r1; p0 += step) {
    const int64_t rows = std::min(step, r1 - p0);
    Panel panel = make_panel(w.type, rows, w.cols, memory);
    const std::byte* first = plain_weight_rows(w, p0, rows);
    if (job.simd_unpack != nullptr) {
      job.simd_unpack(w.type, first, w.row_bytes, rows, w.cols, panel);
    } else {
      unpack_panel(w.type, first, w.row_bytes, rows, w.cols, panel);
    }
    job.table->gemm_panel(panel, job.plane, job.n_tokens, rows, job.y + p0, job.y_stride);
  }
}

}  // namespace

int64_t gemm_min_tokens(GgmlType type) noexcept {
  switch (panel_group(type)) {
    case 32:
      return 16;
    case 16:
      return 32;
    default:
      return 0;
  }
}

bool gemm_wanted(GgmlType type, int64_t n_tokens) noexcept {
  const int64_t min_tokens = gemm_min_tokens(type);
  return min_tokens > 0 && n_tokens >= min_tokens;
}

size_t gemm_scratch_bytes(GgmlType type, int64_t cols, int64_t n_tokens) noexcept {
  if (!gemm_wanted(type, n_tokens)) return 0;
  return gemm_scratch_bytes_any_batch(type, cols, n_tokens);
}

size_t gemm_scratch_bytes_any_batch(GgmlType type, int64_t cols, int64_t n_tokens) noexcept {
  if (gemm_min_tokens(type) <= 0 || cols <= 0 || n_tokens <= 0) return 0;
  const auto groups = static_cast<size_t>(cols / panel_group(type));
  const auto slots = static_cast<size_t>((n_tokens + kActTile - 1) / kActTile * kActTile);
  return 64 + panel_align(slots * static_cast<size_t>(cols)) +
         2 * panel_align(groups * slots * sizeof(float));
}

namespace {

// The activation plane in `extra` (see gemm_scratch_bytes), filled from the quantised rows.
GemmJob activation_job(ThreadPool& pool, const KernelTable& table, const WeightView& w,
                       const std::byte* act, size_t act_stride, int64_t n_tokens, float* y,
                       int64_t y_stride, std::byte* extra) {
  const int group = panel_group(w.type);
  const int64_t groups = w.cols / group;
  const int64_t tiles = (n_tokens + kActTile - 1) / kActTile;
  const auto slots = static_cast<size_t>(tiles * kActTile);
  const auto base = reinterpret_cast<uintptr_t>(extra);
  auto* quants = reinterpret_cast<int8_t*>(extra + (panel_align(base) - base));
  auto* scale = reinterpret_cast<float*>(quants + panel_align(slots * static_cast<size_t>(w.cols)));
  float* sum =
      scale + panel_align(static_cast<size_t>(groups) * slots * sizeof(float)) / sizeof(float);
  GemmJob job{&table,   &w,    act,     act_stride, {quants, scale, sum, groups},
              quants,   scale, sum,     group,      nullptr,
              n_tokens, y,     y_stride};
  if (tiles == 1) {
    fill_tile(job, 0);  // a decode-sized batch: not worth a pool hand-off
    return job;
  }
  const GemmJob* j = &job;
  pool.parallel_for(tiles, [j](int64_t t0, int64_t t1) {
    for (int64_t tile = t0; tile < t1; ++tile) fill_tile(*j, tile);
  });
  return job;
}

}  // namespace

namespace {

// pack_panels() in one form: byte panels, or (packed_forms) the smaller forms of
// packed_panel.hpp, each unpacked into the thread's byte panel first and then compacted.
// False if memory runs out, or a panel does not fit the packed forms.
bool pack_panels_as(ThreadPool& pool, const KernelTable& table, const WeightView& w,
                    bool packed_forms, PackedPanels& out) {
  PackedPanels packed;
  packed.type = w.type;
  packed.rows = w.rows;
  packed.cols = w.cols;
  packed.packed_forms = packed_forms;
  // Panels of gemm()'s height, but at least 8 of them where the matrix allows: a small matrix
  // (a k/v projection) is still split over the threads.
  const int64_t eighth = (w.rows / 8 + kPanelLanes - 1) / kPanelLanes * kPanelLanes;
  packed.step = std::clamp<int64_t>(eighth, kPanelLanes, panel_rows(w.cols));
  const int64_t count = (w.rows + packed.step - 1) / packed.step;
  const size_t full_bytes = panel_bytes(w.type, packed.step, w.cols);
  const size_t each =
      panel_align(packed_forms ? packed_panel_bytes(w.type, packed.step, w.cols) : full_bytes);
  packed.bytes = each * static_cast<size_t>(count);
  packed.memory.reset(new (std::nothrow) std::byte[packed.bytes + 64]);
  if (!packed.memory) return false;
  const auto p = reinterpret_cast<uintptr_t>(packed.memory.get());
  std::byte* first = packed.memory.get() + (panel_align(p) - p);
  packed.panels.resize(static_cast<size_t>(count));
  const PanelUnpackFn simd_unpack =
      w.row_bytes < (size_t{1} << 26) ? table.unpack_panel[static_cast<int>(w.type)] : nullptr;
  std::atomic<bool> ok{true};
  pool.parallel_for(count, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1 && ok.load(std::memory_order_relaxed); ++i) {
      const int64_t r0 = i * packed.step, rows = std::min(packed.step, w.rows - r0);
      std::byte* memory = first + each * static_cast<size_t>(i);
      std::byte* full_memory = packed_forms ? thread_scratch_memory(full_bytes) : memory;
      if (full_memory == nullptr) {
        ok = false;
        return;
      }
      Panel full = make_panel(w.type, rows, w.cols, full_memory);
      const std::byte* src = plain_weight_rows(w, r0, rows);
      if (simd_unpack != nullptr) {
        simd_unpack(w.type, src, w.row_bytes, rows, w.cols, full);
      } else {
        unpack_panel(w.type, src, w.row_bytes, rows, w.cols, full);
      }
      Panel& panel = packed.panels[static_cast<size_t>(i)];
      if (!packed_forms) {
        panel = full;
      } else {
        panel = make_packed_panel(w.type, rows, w.cols, memory);
        if (!compact_panel(full, panel)) ok = false;
      }
    }
  });
  if (!ok) return false;
  out = std::move(packed);
  return true;
}

}  // namespace

bool pack_panels(ThreadPool& pool, const KernelTable& table, const WeightView& w,
                 PackedPanels& out) {
  if (!table.has_gemm_panel(w.type) || w.rows <= 0 || w.cols <= 0) return false;
  // The packed forms hold what the formats produce; a panel that does not fit them (which
  // would be an unpacking fault) keeps bytes rather than losing bits.
  if (table.gemm_panel_packed_forms && pack_panels_as(pool, table, w, true, out)) return true;
  return pack_panels_as(pool, table, w, false, out);
}

void gemm_packed(ThreadPool& pool, const KernelTable& table, const PackedPanels& packed,
                 const std::byte* act, size_t act_stride, int64_t n_tokens, float* y,
                 int64_t y_stride, std::byte* extra) {
  const WeightView w{packed.type, nullptr, packed.rows, packed.cols, 0};
  const GemmJob job = activation_job(pool, table, w, act, act_stride, n_tokens, y, y_stride, extra);
  const GemmJob* j = &job;
  const PackedPanels* pp = &packed;
  pool.run([j, pp](int thread, int n_threads) {
    const auto count = static_cast<int64_t>(pp->panels.size());
    const int64_t i0 = count * thread / n_threads, i1 = count * (thread + 1) / n_threads;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t r0 = i * pp->step, rows = std::min(pp->step, pp->rows - r0);
      j->table->gemm_panel(pp->panels[static_cast<size_t>(i)], j->plane, j->n_tokens, rows,
                           j->y + r0, j->y_stride);
    }
  });
}

void gemm(ThreadPool& pool, const KernelTable& table, const WeightView& w, const std::byte* act,
          size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride, std::byte* extra) {
  GemmJob job = activation_job(pool, table, w, act, act_stride, n_tokens, y, y_stride, extra);
  // The SIMD unpacker addresses rows with 32-bit offsets: 16 rows must fit.
  job.simd_unpack =
      w.row_bytes < (size_t{1} << 26) ? table.unpack_panel[static_cast<int>(w.type)] : nullptr;
  const GemmJob* j = &job;  // one pointer: the std::function stores it without allocating
  pool.run([j](int thread, int n_threads) {
    // Contiguous row ranges in multiples of 16 rows, as in matmul().
    const int64_t rows = j->w->rows;
    const int64_t units = (rows + kPanelLanes - 1) / kPanelLanes;
    const int64_t r0 = std::min(rows, units * thread / n_threads * kPanelLanes);
    const int64_t r1 = std::min(rows, units * (thread + 1) / n_threads * kPanelLanes);
    if (r0 < r1) run_thread(*j, r0, r1);
  });
}

const std::byte* plain_weight_rows(const WeightView& w, int64_t r0, int64_t rows) {
  const auto* first = static_cast<const std::byte*>(w.data) + static_cast<size_t>(r0) * w.row_bytes;
  if (w.layout != RowLayout::interleaved) return first;
  thread_local std::vector<std::byte> copy;
  copy.resize(static_cast<size_t>(rows) * w.row_bytes);
  for (int64_t r = 0; r < rows; ++r) {
    deinterleave_row(w.type, first + static_cast<size_t>(r) * w.row_bytes,
                     copy.data() + static_cast<size_t>(r) * w.row_bytes, w.cols / kQK32);
  }
  return copy.data();
}

std::byte* thread_scratch_memory(size_t bytes) noexcept {
  thread_local std::unique_ptr<std::byte[]> memory;
  thread_local size_t capacity = 0;
  if (capacity < bytes) {
    memory.reset(new (std::nothrow) std::byte[bytes + 64]);
    capacity = memory ? bytes : 0;
    if (!memory) return nullptr;
  }
  const auto p = reinterpret_cast<uintptr_t>(memory.get());
  return memory.get() + (panel_align(p) - p);
}

}  // namespace inference::kernels::detail
