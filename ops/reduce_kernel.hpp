// reduce_kernel.hpp: the SIMD sums of ops/reduce_kernel.cpp, one copy per instruction set. x is
// read as R rows of C contiguous columns: reducing trailing axes (the last axis, or all) sums
// along rows, reducing leading axes sums down columns. Other axis sets use the reference kernel.
#pragma once

#include <cstdint>

namespace ag {

/// out[r] = Σ_c x[r, c] (several independent accumulators: another order than the reference's).
struct SumRowsKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const;
};
/// out[c] = Σ_r x[r, c], adding the rows in order: the reference's bits.
struct SumColumnsKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const;
};

}  // namespace ag
