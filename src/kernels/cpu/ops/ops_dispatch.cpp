// kernels/cpu/ops/ops_dispatch.cpp — the scalar ops table, and the table that matches the
// active matmul kernel table (so CPUID and force_simd_path() select both at once).
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/ops/ops_table.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels::detail {

const OpsTable& scalar_ops_table() noexcept {
  static constexpr OpsTable table{
      "scalar",      rms_norm_row_scalar, rope_apply_scalar,       softmax_row_scalar,
      swiglu_scalar, geglu_scalar,        attention_values_scalar, round_to_f16_scalar};
  return table;
}

#if !defined(INFERENCE_KERNELS_X86)
const OpsTable* avx2_ops_table() noexcept {
  return nullptr;
}
const OpsTable* avx512_ops_table() noexcept {
  return nullptr;
}
#endif

const OpsTable& active_ops_table() noexcept {
  // The matmul table was chosen from CPUID (or forced); the ops of the same level need a
  // subset of its instruction sets.
  const KernelTable* kernels = &active_kernel_table();
  if (kernels == avx512_kernel_table() && avx512_ops_table() != nullptr) {
    return *avx512_ops_table();
  }
  if (kernels == avx2_kernel_table() && avx2_ops_table() != nullptr) return *avx2_ops_table();
  return scalar_ops_table();
}

}  // namespace inference::kernels::detail
