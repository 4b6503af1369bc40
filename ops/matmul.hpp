// matmul.hpp: matrix product with NumPy/PyTorch semantics.
//
//   out[..., i, j] = Σ_k a[..., i, k] b[..., k, j]      (M×K) @ (K×N) -> (M×N)
//   da = dout @ bᵀ       db = aᵀ @ dout                (batch dims broadcast; engine sums back)
// 1-D operands are promoted as in torch.matmul: a vector on the left is a row (then removed),
// on the right a column (then removed). Leading batch dimensions broadcast.
#pragma once

#include "core/tensor.hpp"

namespace ag {

/// a @ b with broadcast batch dimensions.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace ag
