// softmax.hpp: softmax and log_softmax over the last axis, numerically stable.
//
//   softmax(x)_i     = e^(x_i - m) / Σ_j e^(x_j - m)          m = max_j x_j
//   log_softmax(x)_i = x_i - m - log Σ_j e^(x_j - m)
//   softmax backward:     dx_i = y_i (dy_i - Σ_j dy_j y_j)    y = softmax(x)
//   log_softmax backward: dx_i = dy_i - e^(y_i) Σ_j dy_j      y = log_softmax(x)
// Entries may be -inf (masked out): they get probability 0. A row that is entirely -inf has
// nothing to normalise: its softmax is all zeros (never NaN) and its gradient is zero.
#pragma once

#include "core/tensor.hpp"

namespace ag {

/// Softmax over the last axis.
Tensor softmax(const Tensor& x);
/// Logarithm of the softmax over the last axis, computed without forming the softmax.
Tensor log_softmax(const Tensor& x);

}  // namespace ag
