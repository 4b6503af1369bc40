// dropout.hpp: inverted dropout with a counter-based mask.
//
//   out = x * m / (1 - p),  m_i = [u_i >= p],  u_i uniform from Philox(seed, offset + i)
//   dx  = dout * m / (1 - p)      (the mask is regenerated from (seed, offset), never stored)
// Identity (the same tensor, no node) when p == 0 or not training; p == 1 gives zeros.
#pragma once

#include "core/random.hpp"
#include "core/tensor.hpp"

namespace ag {

/// Zeroes each element with probability p and scales the rest by 1 / (1 - p). p in [0, 1].
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

}  // namespace ag
