// clip.hpp: gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
//
//   total = sqrt(sum over every gradient element of g^2)      (accumulated in double)
//   coef  = max_norm / (total + 1e-6)
//   g     = g * coef    for every gradient, when coef < 1
//
// The 1e-6 keeps the division finite for zero gradients and leaves the clipped norm just below
// max_norm. Parameters without a gradient are skipped.
#pragma once

#include "core/tensor.hpp"

#include <vector>

namespace ag {

/// Scales the gradients of `params` so that their joint L2 norm is at most `max_norm` (> 0);
/// returns the norm before clipping.
/// NOTE: an infinite or NaN norm is returned as such (and the gradients become NaN, as in
/// PyTorch): check std::isfinite on the result to skip the step.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace ag
