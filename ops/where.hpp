// where.hpp: choosing elements by a condition.
//
//   where(cond, a, b) = cond ? a : b       da = dout * [cond]   db = dout * [!cond]
//   masked_fill(x, mask, v) = mask ? v : x dx = dout * [!mask]
// Conditions and masks are float tensors: non-zero means true. All three shapes broadcast.
#pragma once

#include "core/tensor.hpp"

namespace ag {

/// Elements of `a` where `condition` is non-zero, of `b` elsewhere (broadcast).
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
/// `x` with `value` wherever `mask` is non-zero (mask broadcasts to x's shape). value may be -inf.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

}  // namespace ag
