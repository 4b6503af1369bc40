// softplus.hpp: softplus, a smooth relu, added to attograd from outside the library: the worked
// example of docs/adding-an-op.md. Every declaration of the op is here: the op, its two reference
// kernels and its two SIMD kernels.
//
//   forward   y  = log(1 + e^x)      computed as max(x, 0) + log1p(e^-|x|), which never overflows
//   backward  dx = dy · sigmoid(x)   sigmoid(x) = 1 / (1 + e^-x), the derivative of log(1 + e^x)
//   shapes    x, y, dy, dx: any shape, all the same; the kernels see n contiguous floats
#pragma once

#include "core/tensor.hpp"

#include <cstdint>

namespace ag {

/// log(1 + e^x) elementwise (torch.nn.functional.softplus with beta 1), differentiable.
Tensor softplus(const Tensor& x);

/// out[i] = log(1 + e^x[i]) for i < n, one float at a time (the scalar level's kernel).
void softplus_forward_reference(float* out, const float* x, int64_t n);
/// dx[i] = dout[i] · sigmoid(x[i]) for i < n, one float at a time (the scalar level's kernel).
void softplus_backward_reference(float* dx, const float* dout, const float* x, int64_t n);

/// softplus_forward_reference's contract on SIMD batches, one copy per level (softplus.cpp, kernel half).
struct SoftplusForwardKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* x, int64_t n) const;
};
/// softplus_backward_reference's contract on SIMD batches, one copy per level (softplus.cpp, kernel half).
struct SoftplusBackwardKernel {
    template <class Arch>
    void operator()(Arch, float* dx, const float* dout, const float* x, int64_t n) const;
};

}  // namespace ag
