// reduce.hpp: sum, mean and max over one or several axes.
//
//   sum:  out = Σ_axes x                dx = dout broadcast back over the axes
//   mean: out = Σ_axes x / n            dx = dout / n broadcast back
//   max:  out = max_axes x              dx = dout where x equals the max, shared equally among
//                                       ties (as torch.amax), 0 elsewhere
// Axes may be negative; an empty axis list reduces every axis. keepdim keeps reduced axes as 1.
#pragma once

#include "core/tensor.hpp"

#include <vector>

namespace ag {

/// Sum of all elements, as a 0-dimensional tensor.
Tensor sum(const Tensor& x);
/// Sum over `axes` (all when empty).
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
/// Mean of all elements, as a 0-dimensional tensor.
Tensor mean(const Tensor& x);
/// Mean over `axes` (all when empty).
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
/// Maximum of all elements, as a 0-dimensional tensor; throws on an empty tensor.
Tensor max(const Tensor& x);
/// Maximum over `axes` (all when empty); throws when a reduced axis is empty.
Tensor max(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);

}  // namespace ag
