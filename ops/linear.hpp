// linear.hpp: the affine map of a fully connected layer, y = x Wᵀ + b (torch.nn.functional.linear).
//
//   x: [..., I], weight W: [O, I], bias b: [O] (optional)  ->  y: [..., O]
//   with the leading dimensions of x flattened to N rows:
//   y = x Wᵀ + b          dx = dy W          dW = dyᵀ x          db = Σ_rows dy
// W stays in PyTorch's [out, in] layout: the transpose is absorbed by gemm's flags, never copied.
//
// linear_rows is the same map over a list of rows only, the others of y being 0:
//   y[n] = x[n] Wᵀ + b   for n in rows        y[n] = 0   for the others
//   dx[n] = dy[n] W      for n in rows        dx[n] = 0  for the others (y does not depend on them)
//   dW = Σ_{n in rows} dy[n]ᵀ x[n]            db = Σ_{n in rows} dy[n]
// It is for rows whose outputs nobody reads, padding positions above all (MultiHeadAttention's
// zero_padding_queries): they cost no work, forward or backward, and the listed rows have the
// bits linear gives them.
#pragma once

#include "core/tensor.hpp"

#include <cstdint>
#include <vector>

namespace ag {

/// x @ weightᵀ + bias over the last axis of x; `bias` may be undefined (no bias).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

/// linear over the listed rows of x (its leading dimensions flattened to N rows): the other rows
/// of the result are 0 and get no gradient. rows: ascending, each in [0, N).
Tensor linear_rows(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& rows);

}  // namespace ag
