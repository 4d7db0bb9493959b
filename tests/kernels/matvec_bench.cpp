// kernels_bench — not a test: prints the throughput of matmul per weight type, one token
// (decode: memory bound, GB/s of weights streamed) and a batch of tokens (prefill: weight rows
// re-used across a tile), with 1 and 2 threads. The weights (default 1 GiB per type) are larger
// than the last-level cache so decode figures are DRAM figures.
//
//   kernels_bench [--mib 1024] [--types Q4_K,Q8_0] [--path avx512|avx2|scalar] [--tokens 64]
//                 [--layout interleaved]   (rows as the engine lays them out at load)
//                 [--cols 2048]            (columns per matrix row: a multiple of 256)
//                 [--rows N]               (the weights as matrices of N rows, multiplied in
//                                           turn like a model's: per-call costs included)
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.hpp"

using namespace inference::kernels;

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  double mib = 1024;
  int64_t prefill_tokens = 64;
  bool interleaved = false;
  int64_t cols = 2048;
  int64_t matrix_rows = 0;  // 0: one matrix of every row
  std::string types_arg = "F32,F16,BF16,Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--mib") mib = std::stod(argv[i + 1]);
    if (flag == "--types") types_arg = argv[i + 1];
    if (flag == "--tokens") prefill_tokens = std::stoll(argv[i + 1]);
    if (flag == "--cols") cols = std::stoll(argv[i + 1]);
    if (flag == "--rows") matrix_rows = std::stoll(argv[i + 1]);
    if (flag == "--layout") interleaved = std::string(argv[i + 1]) == "interleaved";
    if (flag == "--path" && !force_simd_path(argv[i + 1])) {
      std::fprintf(stderr, "path %s not available\n", argv[i + 1]);
      return 1;
    }
  }
  std::printf("simd path: %s, %g MiB of weights per type, matrices of %lld columns and %s rows\n",
              simd_path_name(), mib, static_cast<long long>(cols),
              matrix_rows > 0 ? std::to_string(matrix_rows).c_str() : "all the");
  std::printf("%-6s %8s %12s %12s %16s %14s %14s %18s\n", "type", "threads", "decode GB/s",
              "decode ms", "decode cpu GB/s", "prefill GB/s", "prefill tok/s", "prefill cpu tok/s");
  std::mt19937 rng(1);
  size_t start = 0;
  while (start < types_arg.size()) {
    size_t end = types_arg.find(',', start);
    if (end == std::string::npos) end = types_arg.size();
    const std::string name = types_arg.substr(start, end - start);
    start = end + 1;
    GgmlType type = GgmlType::F32;
    bool found = false;
    for (GgmlType t : test::supported_types()) {
      const char* names[] = {"F32",  "F16", "Q4_0", "Q4_1", "",     "",     "Q5_0", "Q5_1",
                             "Q8_0", "",    "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
      const int id = static_cast<int>(t);
      const std::string tn = id == 30 ? "BF16" : names[id];
      if (tn == name) {
        type = t;
        found = true;
      }
    }
    if (!found) continue;
    const size_t row_bytes = test::row_bytes(type, cols);
    const int64_t rows = static_cast<int64_t>(mib * 1024 * 1024 / row_bytes);
    // One random row repeated: the data's values do not change the speed, only its size.
    const auto row = test::random_row(type, cols, rng);
    // In transparent huge pages, as the engine keeps a model's weights (and as the bandwidth
    // figure is measured): 4 KiB pages cost a one-core stream ~15%.
    const size_t weight_bytes = row_bytes * static_cast<size_t>(rows);
    void* mapped =
        mmap(nullptr, weight_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) {
      std::fprintf(stderr, "kernels_bench: cannot map %zu bytes\n", weight_bytes);
      return 1;
    }
    madvise(mapped, weight_bytes, MADV_HUGEPAGE);
    auto* weights = static_cast<uint8_t*>(mapped);
    for (int64_t r = 0; r < rows; ++r) std::memcpy(weights + r * row_bytes, row.data(), row_bytes);
    WeightView w{type, weights, rows, cols, row_bytes};
    if (interleaved && interleaving_pays(type)) {
      interleave_weight_rows(type, weights, row_bytes, cols, 0, rows);
      w.layout = RowLayout::interleaved;
    }
    const auto x = test::random_floats(cols * prefill_tokens, rng);
    std::vector<float> y(static_cast<size_t>(rows * prefill_tokens));
    std::vector<uint8_t> scratch(activation_scratch_bytes(type, cols, prefill_tokens) + 64);
    // The decode pass: every matrix once, in order.
    const int64_t per_matrix = matrix_rows > 0 ? std::min(matrix_rows, rows) : rows;
    const auto decode_pass = [&](ThreadPool& pool) {
      for (int64_t r0 = 0; r0 + per_matrix <= rows; r0 += per_matrix) {
        WeightView m = w;
        m.data = weights + static_cast<size_t>(r0) * row_bytes;
        m.rows = per_matrix;
        matmul(pool, m, x.data(), cols, 1, y.data() + r0, rows, scratch.data());
      }
    };
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      decode_pass(pool);  // warm up
      // Repeat for at least half a second (small matrices: cache-resident compute speed).
      int reps = 0;
      const double cpu0 = thread_cpu_seconds();
      auto t0 = std::chrono::steady_clock::now();
      do {
        decode_pass(pool);
        ++reps;
      } while (seconds_since(t0) < 0.5);
      const double decode_s = seconds_since(t0) / reps;
      // CPU time of the calling thread: with 1 thread, the kernel's cost free of other load.
      const double decode_cpu_s = (thread_cpu_seconds() - cpu0) / reps;
      // Prefill over a slice that fits the time budget.
      // (Only big matrices are cut: the activation quantisation is not scaled with the rows.)
      const int64_t prows =
          static_cast<size_t>(rows) * row_bytes > (size_t{64} << 20) ? rows / 8 : rows;
      WeightView wp = w;
      wp.rows = prows;
      const double pcpu0 = thread_cpu_seconds();
      t0 = std::chrono::steady_clock::now();
      matmul(pool, wp, x.data(), cols, prefill_tokens, y.data(), prows, scratch.data());
      const double prefill_s = seconds_since(t0);
      const double prefill_cpu_s = thread_cpu_seconds() - pcpu0;
      const double bytes =
          static_cast<double>(row_bytes) * static_cast<double>(rows / per_matrix * per_matrix);
      std::printf("%-6s %8d %12.2f %12.3f %16.2f %14.2f %14.1f %18.1f\n", name.c_str(), threads,
                  bytes / decode_s / 1e9, decode_s * 1e3, bytes / decode_cpu_s / 1e9 / threads,
                  static_cast<double>(row_bytes) * prows / prefill_s / 1e9,
                  // tokens/s of a model whose weights are this matrix (scaled to the full size)
                  prefill_tokens / (prefill_s * rows / prows),
                  prefill_tokens / (prefill_cpu_s * threads * rows / prows));
    }
    munmap(mapped, weight_bytes);
  }
  return 0;
}
