// shape_ops.hpp: ops that move elements without arithmetic.
//
//   reshape / view / squeeze / unsqueeze   same storage, new shape (no copy); d = reshape(dout)
//   transpose / permute                    copy with axes reordered; d = inverse permutation of dout
//   slice / narrow                         copy of a range along one axis; d = dout placed in zeros
//   concat                                 copy of inputs side by side along one axis; d = slices of dout
//   broadcast_to                           copy expanded to a larger shape; d = sum back (engine's sum_to)
#pragma once

#include "core/tensor.hpp"

#include <cstdint>
#include <vector>

namespace ag {

/// Same elements, new shape (at most one size may be -1: inferred). Shares storage: no copy.
Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape);
/// Same as reshape: every attograd tensor is contiguous, so a view always exists.
Tensor view(const Tensor& x, const std::vector<int64_t>& shape);
/// Inserts a dimension of size 1 at `axis` (view).
Tensor unsqueeze(const Tensor& x, int axis);
/// Removes dimension `axis`, which must have size 1 (view).
Tensor squeeze(const Tensor& x, int axis);
/// Swaps two axes (copy).
Tensor transpose(const Tensor& x, int axis0, int axis1);
/// Reorders axes: out.shape[i] = x.shape[dims[i]] (copy).
Tensor permute(const Tensor& x, const std::vector<int>& dims);
/// Elements start, start+step, ... < end along `axis` (copy). Negative start/end count from the end.
Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end, int64_t step = 1);
/// `length` elements from `start` along `axis` (copy), as torch.narrow.
Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length);
/// Joins tensors along `axis`; all other sizes must match (copy).
Tensor concat(const std::vector<Tensor>& xs, int axis);
/// Expands to `shape` by NumPy broadcasting (copy).
Tensor broadcast_to(const Tensor& x, const Shape& shape);

}  // namespace ag
