// Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 rows in the interleaved layout (interleaved_rows.hpp): the layout holds
// exactly the file's blocks, and every path that multiplies or reads such a matrix — the
// interleaved row-vector kernels, the prompt GEMM, the dot products of other SIMD levels, the fused
// q/k/v pass, row dequantisation — gives what the file's layout gives.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "inference/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/cpu/interleaved_rows.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

struct Pair {
  std::vector<uint8_t> plain_bytes, interleaved_bytes;
  WeightView plain, interleaved;
};

Pair random_pair(GgmlType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  Pair p;
  const size_t rb = test::row_bytes(type, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = test::random_row(type, cols, rng);
    p.plain_bytes.insert(p.plain_bytes.end(), row.begin(), row.end());
  }
  p.interleaved_bytes = p.plain_bytes;
  interleave_weight_rows(type, p.interleaved_bytes.data(), rb, cols, 0, rows);
  p.plain = {type, p.plain_bytes.data(), rows, cols, rb};
  p.interleaved = {type, p.interleaved_bytes.data(), rows, cols, rb, RowLayout::interleaved};
  return p;
}

std::vector<float> multiply(ThreadPool& pool, const WeightView& w, const std::vector<float>& x,
                            int64_t n_tokens) {
  std::vector<float> y(static_cast<size_t>(n_tokens * w.rows), -7.f);
  std::vector<uint8_t> scratch(activation_scratch_bytes(w.type, w.cols, n_tokens) + 1);
  matmul(pool, w, x.data(), w.cols, n_tokens, y.data(), w.rows, scratch.data());
  return y;
}

// Σ dequantised weight × dequantised activation per token and row, in double, and Σ of the
// products' magnitudes.
struct Products {
  std::vector<double> sum, magnitude;
};

Products reference_products(const Pair& p, const std::vector<float>& x, int64_t n_tokens) {
  const GgmlType type = p.plain.type;
  const int64_t cols = p.plain.cols, rows = p.plain.rows;
  Products out;
  std::vector<float> wf(static_cast<size_t>(cols));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto a = test::quantize_activation_for(type, x.data() + t * cols, cols);
    const auto af = test::dequantize_activation(activation_type(type), a.data(), cols);
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(type, p.plain_bytes.data() + r * p.plain.row_bytes, wf.data(), cols);
      double sum = 0, magnitude = 0;
      for (int64_t k = 0; k < cols; ++k) {
        sum += double{wf[k]} * af[k];
        magnitude += std::fabs(double{wf[k]} * af[k]);
      }
      out.sum.push_back(sum);
      out.magnitude.push_back(magnitude);
    }
  }
  return out;
}

// got and want (n_tokens × p's rows) equal up to the float rounding of the products'
// magnitudes: what two kernels summing the same products in other orders can differ by.
void expect_near_products(const Pair& p, const std::vector<float>& x, int64_t n_tokens,
                          const std::vector<float>& got, const std::vector<float>& want) {
  const std::vector<double> magnitude = reference_products(p, x, n_tokens).magnitude;
  for (size_t i = 0; i < magnitude.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 4e-6 * magnitude[i] + 1e-30)
        << "token " << i / p.plain.rows << " row " << i % p.plain.rows;
  }
}

// Every format with an interleaved layout: offsets (Q4_0, Q5_0, Q8_0) and mins (Q4_1, Q5_1), with
// and without fifth bits, nibbles and bytes; and the super-block formats Q4_K and Q5_K, whose
// 32-element sub-blocks are the lanes.
constexpr GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                               GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K};

bool super_blocks(GgmlType type) {
  return type == GgmlType::Q4_K || type == GgmlType::Q5_K;
}

// 32-element blocks per row. 2 blocks: one partial run; 3: a partial run and a single block; 28
// (Qwen2.5's 896 columns): a whole run and a partial one of 12; 36 (Gemma-3's 1,152): two runs
// and 4; 41: two runs, a partial run of 8 and a single block. Super-blocks (8 blocks each): 1, a
// partial run; 2, one run; 3, a run and a partial one; 8 (Llama-3.2's 2,048 columns); 19
// (Qwen2.5's 4,864); 27 (Gemma-3's 6,912).
std::vector<int64_t> block_counts(GgmlType type) {
  if (super_blocks(type)) return {8, 16, 24, 64, 152, 216};
  return {1, 2, 3, 15, 16, 17, 28, 36, 41, 64};
}

// Fewer shapes for the slower cases: still every kind of run end.
std::vector<int64_t> some_block_counts(GgmlType type) {
  if (super_blocks(type)) return {8, 24, 152};
  return {3, 28, 41};
}

TEST(InterleavedRows, HoldTheFileBlocksExactly) {
  std::mt19937 rng(11);
  for (GgmlType type : kTypes) {
    for (int64_t blocks : block_counts(type)) {
      const int64_t cols = 32 * blocks;
      const Pair p = random_pair(type, 3, cols, rng);
      if (blocks >= 2) {
        EXPECT_NE(p.plain_bytes, p.interleaved_bytes);
      }
      std::vector<uint8_t> back(p.plain_bytes.size());
      for (int64_t r = 0; r < 3; ++r) {
        const size_t at = static_cast<size_t>(r) * p.plain.row_bytes;
        detail::deinterleave_row(type, p.interleaved_bytes.data() + at, back.data() + at, blocks);
        std::vector<float> want(static_cast<size_t>(cols)), got(static_cast<size_t>(cols));
        dequantize_row(type, p.plain_bytes.data() + at, want.data(), cols);
        dequantize_weight_row(p.interleaved, r, got.data());
        ASSERT_EQ(got, want) << "type " << static_cast<int>(type) << " blocks " << blocks;
      }
      ASSERT_EQ(back, p.plain_bytes) << "type " << static_cast<int>(type) << " blocks " << blocks;
    }
  }
}

TEST(InterleavedRows, MultiplyLikeTheFileLayout) {
  std::mt19937 rng(12);
  ThreadPool one(1), two(2), three(3);
  const int64_t rows = 37;
  for (GgmlType type : kTypes) {
    for (int64_t blocks : block_counts(type)) {
      const int64_t cols = 32 * blocks;
      const Pair p = random_pair(type, rows, cols, rng);
      std::vector<float> wf(static_cast<size_t>(cols));
      // 1 and 7 tokens: the row-vector kernels; 40: the prompt GEMM (unpacked from the same
      // blocks, so the same bits).
      for (int64_t n_tokens : {1, 7, 40}) {
        SCOPED_TRACE("type " + std::to_string(static_cast<int>(type)) + " blocks " +
                     std::to_string(blocks) + " tokens " + std::to_string(n_tokens));
        const auto x = test::random_floats(n_tokens * cols, rng);
        const auto want = multiply(two, p.plain, x, n_tokens);
        const auto got = multiply(two, p.interleaved, x, n_tokens);
        for (ThreadPool* pool : {&one, &three})
          ASSERT_EQ(multiply(*pool, p.interleaved, x, n_tokens), got);
        if (n_tokens >= 16) {
          ASSERT_EQ(got, want);
          continue;
        }
        for (int64_t t = 0; t < n_tokens; ++t) {
          const std::vector<float> xt(x.begin() + t * cols, x.begin() + (t + 1) * cols);
          const auto alone = multiply(two, p.interleaved, xt, 1);
          for (int64_t r = 0; r < rows; ++r) {
            ASSERT_EQ(alone[static_cast<size_t>(r)], got[static_cast<size_t>(t * rows + r)])
                << "token " << t << " row " << r;
          }
        }
        // Another summation order than the file layout's kernel.
        expect_near_products(p, x, n_tokens, got, want);
      }
    }
  }
}

// Other SIMD levels, forced after the rows were laid out: AVX2 has interleaved row kernels of its
// own (not for Q8_0, which it multiplies with dot products); the scalar level has none and reads
// the rows back in the file's layout. The prompt GEMM and the dot products give the file layout's
// bits; small batches agree up to summation order, and a token's bits do not depend on the batch it
// is in.
TEST(InterleavedRows, OtherSimdLevelsReadThem) {
  std::mt19937 rng(13);
  ThreadPool pool(2);
  for (const char* path : {"avx2", "scalar"}) {
    if (!force_simd_path(path)) continue;
    for (GgmlType type : kTypes) {
      for (int64_t blocks : some_block_counts(type)) {
        const Pair p = random_pair(type, 21, 32 * blocks, rng);
        for (int64_t n_tokens : {1, 5, 40}) {
          SCOPED_TRACE(std::string(path) + " type " + std::to_string(static_cast<int>(type)) +
                       " blocks " + std::to_string(blocks) + " tokens " + std::to_string(n_tokens));
          const auto x = test::random_floats(n_tokens * p.plain.cols, rng);
          const auto got = multiply(pool, p.interleaved, x, n_tokens);
          const auto want = multiply(pool, p.plain, x, n_tokens);
          if (n_tokens >= 16 || std::string(path) == "scalar") {
            EXPECT_EQ(got, want);
            continue;
          }
          expect_near_products(p, x, n_tokens, got, want);
          const int64_t cols = p.plain.cols, rows = p.plain.rows;
          for (int64_t t = 0; t < n_tokens; ++t) {
            const std::vector<float> xt(x.begin() + t * cols, x.begin() + (t + 1) * cols);
            const auto alone = multiply(pool, p.interleaved, xt, 1);
            for (int64_t r = 0; r < rows; ++r) {
              ASSERT_EQ(alone[static_cast<size_t>(r)], got[static_cast<size_t>(t * rows + r)]);
            }
          }
        }
      }
    }
  }
  force_simd_path("");
}

// Every quant at its largest magnitude (nibbles 15, fifth bits set, Q8_0 −128) against
// activations that all quantise to ±127: the kernels' integer sums at their extremes (the AVX2
// kernels add several steps' pair sums in 16-bit lanes before widening them).
TEST(InterleavedRows, LargestQuantsAgainstLargestActivations) {
  std::mt19937 rng(16);
  ThreadPool pool(2);
  for (const char* path : {"", "avx2"}) {
    if (!force_simd_path(path)) continue;
    for (GgmlType type : kTypes) {
      const bool k = super_blocks(type);
      const int64_t block_elems = k ? 256 : 32;
      const size_t block_bytes = test::row_bytes(type, block_elems);
      // The fp16 scale (and min) fields stay random; everything after them is quants, fifth
      // bits or (K) 6-bit scales and mins, all at their largest.
      const size_t header =
          (type == GgmlType::Q4_0 || type == GgmlType::Q5_0 || type == GgmlType::Q8_0) ? 2 : 4;
      const uint8_t fill = type == GgmlType::Q8_0 ? 0x80 : 0xFF;
      for (int64_t blocks : some_block_counts(type)) {
        const int64_t cols = 32 * blocks;
        Pair p = random_pair(type, 9, cols, rng);
        for (size_t b = 0; b < p.plain_bytes.size(); b += block_bytes) {
          std::fill(p.plain_bytes.begin() + static_cast<ptrdiff_t>(b + header),
                    p.plain_bytes.begin() + static_cast<ptrdiff_t>(b + block_bytes), fill);
        }
        p.interleaved_bytes = p.plain_bytes;
        interleave_weight_rows(type, p.interleaved_bytes.data(), p.plain.row_bytes, cols, 0, 9);
        p.plain.data = p.plain_bytes.data();
        p.interleaved.data = p.interleaved_bytes.data();
        for (float sign : {1.f, -1.f}) {
          SCOPED_TRACE(std::string(path) + " type " + std::to_string(static_cast<int>(type)) +
                       " blocks " + std::to_string(blocks) + " sign " + std::to_string(sign));
          const int64_t n_tokens = 2;
          const std::vector<float> x(static_cast<size_t>(n_tokens * cols), sign * 0.75f);
          const auto got = multiply(pool, p.interleaved, x, n_tokens);
          const auto plain = multiply(pool, p.plain, x, n_tokens);
          expect_near_products(p, x, n_tokens, got, plain);
          // A wrapped 16- or 32-bit sum would be off by far more than the fp16 rounding of the
          // Q8_1 activation sums the min term uses (2^-11 relative).
          const auto exact = reference_products(p, x, n_tokens);
          for (size_t i = 0; i < exact.sum.size(); ++i) {
            ASSERT_NEAR(got[i], exact.sum[i], 1e-3 * exact.magnitude[i]) << i;
            ASSERT_NEAR(plain[i], exact.sum[i], 1e-3 * exact.magnitude[i]) << i;
          }
        }
      }
    }
  }
  force_simd_path("");
}

// A matrix in the file's layout only (types without an interleaved one included).
struct FileMatrix {
  std::vector<uint8_t> bytes;
  WeightView view;
};

FileMatrix file_matrix(GgmlType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  FileMatrix m;
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = test::random_row(type, cols, rng);
    m.bytes.insert(m.bytes.end(), row.begin(), row.end());
  }
  m.view = {type, m.bytes.data(), rows, cols, test::row_bytes(type, cols)};
  return m;
}

// One fused pass over `ws` gives every weight what a matmul of its own gives, bit for bit.
void expect_fused_pass_equals_separate(ThreadPool& pool, const std::vector<const WeightView*>& ws,
                                       std::mt19937& rng) {
  const int64_t cols = ws[0]->cols;
  const auto x = test::random_floats(cols, rng);
  std::vector<std::vector<float>> ys;
  std::vector<float*> outs;
  size_t scratch_bytes = 0;
  for (const WeightView* w : ws) {
    ys.emplace_back(static_cast<size_t>(w->rows));
    scratch_bytes = std::max(scratch_bytes, activation_scratch_bytes(w->type, cols, 1));
  }
  for (auto& y : ys) outs.push_back(y.data());
  std::vector<uint8_t> scratch(scratch_bytes);
  matmul_shared_input(pool, ws.data(), outs.data(), static_cast<int>(ws.size()), x.data(), 1,
                      scratch.data());
  for (size_t i = 0; i < ws.size(); ++i) {
    EXPECT_EQ(ys[i], multiply(pool, *ws[i], x, 1)) << "weight " << i;
  }
}

TEST(InterleavedRows, FusedInputPassEqualsSeparateMatmuls) {
  // Qwen2.5's q/k/v: Q5_0 (interleaved), Q5_0 (interleaved), Q8_0 (here in the file's layout).
  std::mt19937 rng(14);
  ThreadPool pool(2);
  const int64_t cols = 896;
  const Pair q = random_pair(GgmlType::Q5_0, 40, cols, rng);
  const Pair k = random_pair(GgmlType::Q5_0, 8, cols, rng);
  const FileMatrix v = file_matrix(GgmlType::Q8_0, 8, cols, rng);
  expect_fused_pass_equals_separate(pool, {&v.view, &q.interleaved, &k.interleaved}, rng);
}

TEST(InterleavedRows, FusedInputPassMixesSuperBlockKernels) {
  // Llama-3.2's q/k/v in a Q4_K_M file: Q4_K, Q4_K (interleaved: the row-vector kernels), Q6_K
  // (the file's layout: gemv_k) in one pass, and a Q4_K matrix left in the file's layout; the
  // same with Q5_K.
  std::mt19937 rng(15);
  ThreadPool pool(2);
  const int64_t cols = 2048;
  for (GgmlType qk : {GgmlType::Q4_K, GgmlType::Q5_K}) {
    const Pair q = random_pair(qk, 40, cols, rng);
    const Pair k = random_pair(qk, 8, cols, rng);
    const FileMatrix v = file_matrix(GgmlType::Q6_K, 8, cols, rng);
    expect_fused_pass_equals_separate(pool, {&v.view, &q.interleaved, &k.plain, &k.interleaved},
                                      rng);
  }
}

TEST(InterleavedRows, PayOnlyWhereAKernelReadsThem) {
  const std::string path = simd_path_name();
  const bool simd = path.rfind("avx512", 0) == 0 || path == "avx2";
  const bool avx512 = path.rfind("avx512", 0) == 0;
  for (GgmlType type : kTypes) {
    // AVX2 has no unsigned × signed byte product that cannot saturate for q + 128: Q8_0 rows
    // stay in the file's layout there.
    EXPECT_EQ(interleaving_pays(type), type == GgmlType::Q8_0 ? avx512 : simd) << path;
  }
  EXPECT_FALSE(interleaving_pays(GgmlType::Q2_K));
  std::vector<uint8_t> bytes(210);
  EXPECT_THROW(interleave_weight_rows(GgmlType::Q2_K, bytes.data(), 84, 256, 0, 1), Error);
  // A Q4_K row must be whole super-blocks.
  EXPECT_THROW(interleave_weight_rows(GgmlType::Q4_K, bytes.data(), 144, 128, 0, 1), Error);
}

}  // namespace
}  // namespace inference::kernels
