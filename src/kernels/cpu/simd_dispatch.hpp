// kernels/cpu/simd_dispatch.hpp — the kernel table in use (best for this CPU, or the one
// force_simd_path() chose).
#pragma once

#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {

const KernelTable& active_kernel_table() noexcept;

}  // namespace inference::kernels::detail
