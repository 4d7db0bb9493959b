// kernels/cpu/weight_prefetch.hpp — software prefetch of the weight bytes a row-vector kernel
// will read a fixed distance further on.
//
// Decode reads every weight once; it runs at the memory's pace only if the next bytes are on
// their way while the current ones are being multiplied. On a Zen 3 host (AVX2 only, 14-17 GB/s
// read bandwidth per core) the hardware prefetchers alone let the AVX2 kernels stream 8-10 GB/s
// per core from memory while computing 12-18 GB/s in cache; a prefetch 4 KiB ahead of each read
// raised every kernel from memory (medians: +5-34%, at 1 and 2 threads, for rows of 1,024 to
// 8,192 columns; docs/PERFORMANCE.md, "Weight prefetch"). Prefetching a whole row at its start
// instead was slower for long rows: the burst of misses stalled the kernel. So each kernel
// prefetches as it goes, one instruction per 64 bytes it consumes.
//
// Include only from *_avx2.cpp / *_avx512.cpp files (internal linkage, as k_quant_simd.hpp).
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace inference::kernels::detail {
namespace {

// How far ahead of the bytes being read. Past the end of the weights a prefetch is a no-op
// (it never faults).
constexpr size_t kWeightPrefetchDistance = 4096;

// Asks for the cache lines of [p + distance, p + distance + bytes), one prefetch per 64 bytes
// (a range that ends mid-line leaves that line to the next call).
[[gnu::always_inline]] inline void prefetch_weights_ahead(const void* p, size_t bytes) {
  const char* ahead = static_cast<const char*>(p) + kWeightPrefetchDistance;
  for (size_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(ahead + offset, _MM_HINT_T0);
}

}  // namespace
}  // namespace inference::kernels::detail
