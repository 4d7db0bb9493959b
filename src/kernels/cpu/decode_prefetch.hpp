// kernels/cpu/decode_prefetch.hpp — software prefetch for the row-vector (decode) kernels.
//
// Decode reads every weight once per token, row after row, and spends ~15 cycles of arithmetic
// per 144-256 bytes: the hardware prefetchers alone kept one core's stream at 17 GB/s where a
// plain read of the same huge-page memory ran at 29 GB/s. Asking for the row ~12 KiB ahead
// into L2 at the start of each row (prefetcht2: the stream must not evict the activations from
// L1) overlapped the misses with the arithmetic: 22 GB/s, measured for 4 KiB to 32 KiB ahead
// (8-16 KiB best; 1-4 KiB ahead or into L1 gained little or lost).
//
// Include only from the SIMD kernel files (internal linkage, see k_quant_simd.hpp).
#pragma once

#include <xmmintrin.h>

#include <cstddef>

namespace inference::kernels::detail {
namespace {

constexpr size_t kDecodePrefetchAhead = 12 * 1024;

// Prefetches the bytes kDecodePrefetchAhead past [row, row + row_bytes): the rows a few rows on
// (prefetches never fault, so past the matrix's end they cost a wasted line at most).
inline void prefetch_row_ahead(const void* row, size_t row_bytes) {
  const char* p = static_cast<const char*>(row) + kDecodePrefetchAhead;
  for (size_t off = 0; off < row_bytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T2);
}

}  // namespace
}  // namespace inference::kernels::detail
