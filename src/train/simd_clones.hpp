// train/simd_clones.hpp — how the float training path's hot loops are built for the CPU they
// run on: GCC function multi-versioning (one clone each for AVX-512, AVX2 and the baseline,
// chosen at load), and a 16-float vector type the clones keep in one, two or four registers.
// Other compilers build the baseline only.
#pragma once

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define INFERENCE_TRAIN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define INFERENCE_TRAIN_CLONES
#endif

namespace inference::train {

/// 16 floats: one AVX-512 register, two AVX2 ones, four SSE ones, as the clone's target allows.
/// (Passed only between inlined helpers: files using it compile with -Wno-psabi.)
typedef float Lanes __attribute__((vector_size(64)));

}  // namespace inference::train
