// perf/memory_bandwidth.cpp — see memory_bandwidth.hpp.
#include "perf/memory_bandwidth.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::perf {

namespace {

using ReadFn = uint64_t (*)(const uint64_t* p, size_t n);

// Four independent accumulators let the loads of four lines be in flight at once.
uint64_t read_words(const uint64_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
  }
  for (; i < n; ++i) a0 += p[i];
  return a0 ^ a1 ^ a2 ^ a3;
}

#if defined(__x86_64__) && defined(__GNUC__)
// 256 bytes (four 64-byte lines) per iteration, as the decode kernels read weight rows.
__attribute__((target("avx512f"))) uint64_t read_avx512(const uint64_t* p, size_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 8));
    a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 16));
    a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 24));
  }
  // Stored, not _mm512_reduce_add_epi64: GCC 12's header trips -Wuninitialized (bug 105593).
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
  uint64_t sum = 0;
  for (uint64_t v : lanes) sum += v;
  return sum + read_words(p + i, n - i);
}

__attribute__((target("avx2"))) uint64_t read_avx2(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + read_words(p + i, n - i);
}
#endif

// The widest loads the kernels' active SIMD path uses (so INFERENCE_SIMD=avx2 measures what
// AVX2 decode can reach).
ReadFn read_kernel(std::string& name) {
#if defined(__x86_64__) && defined(__GNUC__)
  const char* path = kernels::simd_path_name();
  if (std::strncmp(path, "avx512", 6) == 0) {
    name = "avx512";
    return read_avx512;
  }
  if (std::strncmp(path, "avx2", 4) == 0) {
    name = "avx2";
    return read_avx2;
  }
#endif
  name = "scalar";
  return read_words;
}

struct FreeDeleter {
  void operator()(uint64_t* p) const noexcept { std::free(p); }
};

}  // namespace

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

BandwidthResult measure_read_bandwidth(int threads, uint64_t buffer_bytes, int runs) {
  if (threads < 1 || runs < 1 || buffer_bytes < (uint64_t{1} << 20)) {
    throw Error(ErrorCode::invalid_argument,
                "bandwidth measurement needs >= 1 thread, >= 1 run and a buffer of >= 1 MiB");
  }
  constexpr size_t kAlign = size_t{2} << 20;  // a huge page
  const size_t bytes = (buffer_bytes + kAlign - 1) / kAlign * kAlign;
  std::unique_ptr<uint64_t, FreeDeleter> buffer(
      static_cast<uint64_t*>(std::aligned_alloc(kAlign, bytes)));
  if (!buffer) {
    throw Error(ErrorCode::out_of_memory, "cannot allocate " + std::to_string(bytes >> 20) +
                                              " MiB for the bandwidth measurement");
  }
#if defined(__linux__)
  madvise(buffer.get(), bytes, MADV_HUGEPAGE);  // advice only: fewer TLB misses if granted
#endif
  const size_t words = bytes / sizeof(uint64_t);
  BandwidthResult result;
  const ReadFn read = read_kernel(result.kernel);
  kernels::ThreadPool pool(threads);
  // Slices in whole 256-byte steps, one per thread, as decode splits weight rows.
  const size_t steps = words / 32;
  auto slice = [&](int t, int n) {
    const size_t begin = steps * static_cast<size_t>(t) / static_cast<size_t>(n) * 32;
    const size_t end = steps * static_cast<size_t>(t + 1) / static_cast<size_t>(n) * 32;
    return std::pair<size_t, size_t>{begin, end};
  };
  uint64_t* data = buffer.get();
  // Non-zero data written by the thread that reads it: untouched pages would all map the
  // shared zero page and be read from cache.
  pool.run([&](int t, int n) {
    const auto [begin, end] = slice(t, n);
    for (size_t i = begin; i < end; ++i) data[i] = i * 0x9e3779b97f4a7c15ull + 1;
  });
  std::vector<uint64_t> sinks(static_cast<size_t>(threads) * 8);  // one cache line each
  std::vector<double> gbs;
  using Clock = std::chrono::steady_clock;
  const size_t measured = steps * 32 * sizeof(uint64_t);
  for (int r = -1; r < runs; ++r) {  // r = -1: warm-up (wakes the pool, fills the TLB)
    const auto start = Clock::now();
    pool.run([&](int t, int n) {
      const auto [begin, end] = slice(t, n);
      sinks[static_cast<size_t>(t) * 8] += read(data + begin, end - begin);
    });
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (r >= 0) gbs.push_back(static_cast<double>(measured) / seconds / 1e9);
  }
  // Keep the sums observable so the reads are not dead code.
  volatile uint64_t keep = 0;
  for (auto s : sinks) keep = keep + s;

  result.threads = threads;
  result.buffer_bytes = measured;
  result.runs = runs;
  result.gb_per_second = median_of(gbs);
  result.min_gb_per_second = *std::min_element(gbs.begin(), gbs.end());
  result.max_gb_per_second = *std::max_element(gbs.begin(), gbs.end());
  double total = 0;
  for (double g : gbs) total += g;
  result.mean_gb_per_second = total / runs;
  return result;
}

}  // namespace inference::perf
