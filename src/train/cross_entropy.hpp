// train/cross_entropy.hpp — the loss of one trained position and its gradient with respect to
// the logits, in place over the logits row (float training path).
#pragma once

#include <cstdint>

namespace inference::train {

struct CrossEntropyRow {
  double loss = 0.0;   ///< −log softmax(row)[target], natural log
  float scale = 1.0f;  ///< the gradient row is stored divided by this (see below)
};

/// On return, with backward, row holds grad_scale·(softmax(row) − onehot(target)) divided by
/// `scale`, a power of two that brings its largest magnitude to about [1, 2) (what
/// BaseProducts::backward_acc takes as dy_scale); without backward, row holds softmax(row).
/// Vectorised: the exponentials and their double sum as the engine's softmax computes them.
CrossEntropyRow cross_entropy_row(float* row, int64_t n, int32_t target, float grad_scale,
                                  bool backward) noexcept;

}  // namespace inference::train
