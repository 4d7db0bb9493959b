// kernels/cpu/simd_dispatch.cpp — picks the kernel table of the best SIMD level this CPU runs
// (checked once with CPUID through __builtin_cpu_supports), and the scalar table.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace detail {

const KernelTable& scalar_kernel_table() noexcept {
  static constexpr KernelTable table = [] {
    KernelTable t{};
    t.name = "scalar";
    t.dot[static_cast<int>(GgmlType::F32)] = vec_dot_f32;
    t.dot[static_cast<int>(GgmlType::F16)] = vec_dot_f16;
    t.dot[static_cast<int>(GgmlType::BF16)] = vec_dot_bf16;
    t.dot[static_cast<int>(GgmlType::Q4_0)] = vec_dot_q4_0;
    t.dot[static_cast<int>(GgmlType::Q4_1)] = vec_dot_q4_1;
    t.dot[static_cast<int>(GgmlType::Q5_0)] = vec_dot_q5_0;
    t.dot[static_cast<int>(GgmlType::Q5_1)] = vec_dot_q5_1;
    t.dot[static_cast<int>(GgmlType::Q8_0)] = vec_dot_q8_0;
    t.dot[static_cast<int>(GgmlType::Q2_K)] = vec_dot_q2_k;
    t.dot[static_cast<int>(GgmlType::Q3_K)] = vec_dot_q3_k;
    t.dot[static_cast<int>(GgmlType::Q4_K)] = vec_dot_q4_k;
    t.dot[static_cast<int>(GgmlType::Q5_K)] = vec_dot_q5_k;
    t.dot[static_cast<int>(GgmlType::Q6_K)] = vec_dot_q6_k;
    t.dot[4] = vec_dot_mlx_affine8;  // kMlxAffine8 (mlx_affine8.hpp), not a GGUF type
    return t;
  }();
  return table;
}

#if !defined(INFERENCE_KERNELS_X86)
const KernelTable* avx2_kernel_table() noexcept {
  return nullptr;
}
const KernelTable* avx512_kernel_table() noexcept {
  return nullptr;
}
#endif

namespace {

bool cpu_runs_avx2() noexcept {
#if defined(INFERENCE_KERNELS_X86)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

bool cpu_runs_avx512() noexcept {
#if defined(INFERENCE_KERNELS_X86)
  __builtin_cpu_init();
  return cpu_runs_avx2() && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

const KernelTable* table_named(const char* name) noexcept {
  if (std::strcmp(name, "scalar") == 0) return &scalar_kernel_table();
  if (std::strcmp(name, "avx2") == 0 && avx2_kernel_table() != nullptr && cpu_runs_avx2())
    return avx2_kernel_table();
  if (std::strcmp(name, "avx512") == 0 && avx512_kernel_table() != nullptr && cpu_runs_avx512())
    return avx512_kernel_table();
  return nullptr;
}

// INFERENCE_SIMD=scalar|avx2|avx512 caps the path for the whole process (benchmarks of the
// AVX2 path on an AVX-512 machine, or working around a CPU problem). A level this CPU cannot
// run, or an unknown name, is ignored: the best path is used.
const KernelTable* best_table() noexcept {
  if (const char* env = std::getenv("INFERENCE_SIMD"); env != nullptr && env[0] != '\0') {
    if (const KernelTable* table = table_named(env)) return table;
  }
  if (avx512_kernel_table() != nullptr && cpu_runs_avx512()) return avx512_kernel_table();
  if (avx2_kernel_table() != nullptr && cpu_runs_avx2()) return avx2_kernel_table();
  return &scalar_kernel_table();
}

std::atomic<const KernelTable*> g_forced{nullptr};

}  // namespace

const KernelTable& active_kernel_table() noexcept {
  const KernelTable* forced = g_forced.load(std::memory_order_acquire);
  if (forced != nullptr) return *forced;
  static const KernelTable* const best = best_table();
  return *best;
}

}  // namespace detail

const char* simd_path_name() noexcept {
  return detail::active_kernel_table().name;
}

bool force_simd_path(const char* name) noexcept {
  using namespace detail;
  if (name == nullptr || name[0] == '\0') {
    g_forced.store(nullptr, std::memory_order_release);
    return true;
  }
  const KernelTable* table = table_named(name);
  if (table == nullptr) return false;
  g_forced.store(table, std::memory_order_release);
  return true;
}

}  // namespace inference::kernels
