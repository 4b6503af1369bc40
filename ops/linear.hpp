// linear.hpp: the affine map of a fully connected layer, y = x Wᵀ + b (torch.nn.functional.linear).
//
//   x: [..., I], weight W: [O, I], bias b: [O] (optional)  ->  y: [..., O]
//   with the leading dimensions of x flattened to N rows:
//   y = x Wᵀ + b          dx = dy W          dW = dyᵀ x          db = Σ_rows dy
// W stays in PyTorch's [out, in] layout: the transpose is absorbed by gemm's flags, never copied.
#pragma once

#include "core/tensor.hpp"

namespace ag {

/// x @ weightᵀ + bias over the last axis of x; `bias` may be undefined (no bias).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace ag
