// nonzero.hpp: whether a row of floats is all zero. Backward passes use it to find the gradient
// rows that are exactly zero (padding positions the loss ignores, as after masked pooling) and
// leave them out of their products: linear (ops/linear.cpp) and attention (ops/attention.cpp).
#pragma once

#include <cstdint>
#include <cstring>

namespace ag {

/// Whether any of row[0 .. n) is not zero (NaN is not zero; -0 is). An OR of the bits without the
/// sign, so that the loop vectorises (a loop that stops at the first nonzero runs one float at a time).
inline bool any_nonzero(const float* row, int64_t n) {
    uint32_t bits = 0;
    for (int64_t i = 0; i < n; ++i) {
        uint32_t u;
        std::memcpy(&u, row + i, sizeof u);
        bits |= u << 1;
    }
    return bits != 0;
}

}  // namespace ag
