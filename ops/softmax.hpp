// softmax.hpp: softmax and log_softmax over the last axis, numerically stable.
//
//   softmax(x)_i     = e^(x_i - m) / Σ_j e^(x_j - m)          m = max_j x_j
//   log_softmax(x)_i = x_i - m - log Σ_j e^(x_j - m)
//   softmax backward:     dx_i = y_i (dy_i - Σ_j dy_j y_j)    y = softmax(x)
//   log_softmax backward: dx_i = dy_i - e^(y_i) Σ_j dy_j      y = log_softmax(x)
// Entries may be -inf (masked out): they get probability 0. A row that is entirely -inf has
// nothing to normalise: its softmax is all zeros, its log_softmax all -inf, and its gradient is
// zero (never NaN; PyTorch gives NaN for all three). A NaN or +inf anywhere in a row makes the
// whole row NaN, forward and backward. Details in softmax.cpp.
#pragma once

#include "core/tensor.hpp"

#include <cstdint>

namespace ag {

/// Softmax over the last axis.
Tensor softmax(const Tensor& x);
/// Logarithm of the softmax over the last axis, computed without forming the softmax.
Tensor log_softmax(const Tensor& x);

// --- kernels: R rows of C contiguous columns --------------------------------------------------
// softmax_forward etc. run the SIMD kernel of the active level (ops/softmax_kernel.cpp), or the
// reference at the scalar level (core/simd.hpp); the references are what the SIMD kernels are
// tested against.

/// out[r, :] = softmax(x[r, :]) at the active SIMD level.
void softmax_forward(float* out, const float* x, int64_t rows, int64_t cols);
/// dx[r, i] = out[r, i] (dout[r, i] - Σ_j dout[r, j] out[r, j]) at the active SIMD level.
void softmax_backward(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols);
/// out[r, :] = log_softmax(x[r, :]) at the active SIMD level.
void log_softmax_forward(float* out, const float* x, int64_t rows, int64_t cols);
/// dx[r, i] = dout[r, i] - e^out[r, i] Σ_j dout[r, j] at the active SIMD level.
void log_softmax_backward(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols);


/// out[r, :] = softmax(x[r, :]) in three passes over the row: max; exp and sum; scale.
void softmax_forward_reference(float* out, const float* x, int64_t rows, int64_t cols);
/// dx[r, i] = out[r, i] (dout[r, i] - Σ_j dout[r, j] out[r, j]).
void softmax_backward_reference(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols);
/// out[r, :] = log_softmax(x[r, :]): max; sum of exponentials; subtract the log-sum-exp.
void log_softmax_forward_reference(float* out, const float* x, int64_t rows, int64_t cols);
/// dx[r, i] = dout[r, i] - e^out[r, i] Σ_j dout[r, j]; zero for a fully masked row.
void log_softmax_backward_reference(float* dx, const float* out, const float* dout, int64_t rows, int64_t cols);

}  // namespace ag
