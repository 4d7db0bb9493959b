// train/lora_products.hpp — the LoRA update's products on the float training path, forward
// (y += s·B·A·x) and backward (the gradients of A and B, and A/B's share of dx), for a whole
// sequence at once. The rank-sized factors are small; the products with the wide side (out or
// in columns) run on the register-blocked block products (dense_block.hpp) split over the pool
// by 32-column or 4-row units, with no transposed copy of x or dy. Each element is summed in a
// fixed order by one thread, so results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace inference::train {

/// One LoRA matrix pair: A rank × in, B out × rank (row-major), and the scale alpha / rank.
struct LoraFactors {
  const float* a = nullptr;
  const float* b = nullptr;
  int32_t rank = 0;
  int64_t in = 0, out = 0;
  float scale = 1.0f;
};

/// Intermediates, kept by the caller between calls.
struct LoraProductScratch {
  std::vector<float> z, bt, gbt, dz, ga;
};

/// y (n × out) += scale · (x · Aᵀ) · Bᵀ for x n × in.
void lora_forward(kernels::ThreadPool& pool, const LoraFactors& f, const float* x, int64_t n,
                  float* y, LoraProductScratch& scratch);

/// With z = x·Aᵀ: grad_b += scale·dyᵀ·z, grad_a += (scale·dy·B)ᵀ·x, dx += scale·dy·B·A.
void lora_backward(kernels::ThreadPool& pool, const LoraFactors& f, const float* x, const float* dy,
                   int64_t n, float* grad_a, float* grad_b, float* dx, LoraProductScratch& scratch);

}  // namespace inference::train
