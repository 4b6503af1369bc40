// PLACEHOLDER until the unary family lands: only neg, which binary.cpp's backward needs.
#include "ops/unary.hpp"

#include "ops/binary.hpp"

namespace ag {
Tensor neg(const Tensor& x) { return mul(x, scalar(-1.0f)); }
}  // namespace ag
