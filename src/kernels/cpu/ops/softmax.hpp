// kernels/cpu/ops/softmax.hpp — numerically stable softmax and log-softmax of a row.
//
// The exponentials (exp_approx, fast_exp.hpp: within a few ulps of e^x, like the reference's own
// SIMD exp) are summed in double (as the reference's ggml_vec_soft_max_f32 does, here in 8
// interleaved lanes), so the normalisation does not depend on the row length's rounding.
// log_softmax_row (verification output, not the forward pass) stays in double with std::exp.
#pragma once

#include <cstdint>

namespace inference::kernels {

/// In place: x[i] = exp(x[i] - max) / sum. Entries equal to -infinity become 0. A row that is
/// entirely -infinity becomes all zeros.
void softmax_row(float* x, int64_t n) noexcept;

/// softmax_row, returning log Σ exp(x) (max + the log of the double sum; -infinity for a row
/// that is entirely -infinity): with x[t] saved first, x[t] - the result is log p[t] without the
/// underflow of log(p[t]).
double softmax_row_log_sum(float* x, int64_t n) noexcept;

/// out[i] = x[i] - max - log(sum(exp(x - max))), computed in double; x and out may alias.
void log_softmax_row(const float* x, float* out, int64_t n) noexcept;

}  // namespace inference::kernels
