// unary_kernel.hpp: the SIMD kernels of the unary table (ops/unary_table.hpp), one copy per
// instruction set (ops/unary_kernel.cpp). Op is a table entry: unary::Exp, unary::Pow, ...
#pragma once

#include <cstdint>

namespace ag {

/// out[i] = op.f(x[i]) for i < n.
template <class Op>
struct UnaryForwardKernel {
    Op op;
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t n) const;
};
/// dx[i] = dout[i] * op.df(x[i], out[i]) for i < n.
template <class Op>
struct UnaryBackwardKernel {
    Op op;
    template <class Arch>
    void operator()(Arch, float* dx, const float* dout, const float* x, const float* out, int64_t n) const;
};

}  // namespace ag
