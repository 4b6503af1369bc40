// softplus.cpp: the softplus op: reference kernels, then the op, which validates, runs the
// forward kernel of the active SIMD level and records its backward (formulas in softplus.hpp).
#include "softplus.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/simd.hpp"

#include <algorithm>
#include <cmath>

namespace ag {

// --- the reference kernels -------------------------------------------------------------------

// NOTE: not std::log(1 + std::exp(x)): e^x overflows to inf for x > 88.7, and for x < -17 the
// sum 1 + e^x rounds to 1, so the result is 0 instead of about e^x. Taking max(x, 0) out leaves
// e^-|x| <= 1, and log1p keeps its digits.
void softplus_forward_reference(float* out, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = std::max(x[i], 0.0f) + std::log1p(std::exp(-std::fabs(x[i])));
}

// d/dx log(1 + e^x) = e^x / (1 + e^x) = 1 / (1 + e^-x). For x < -88.7, e^-x is inf and the
// quotient 0, the float nearest to the true value.
void softplus_backward_reference(float* dx, const float* dout, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dx[i] = dout[i] / (1.0f + std::exp(-x[i]));
}

// --- the op ----------------------------------------------------------------------------------

Tensor softplus(const Tensor& x) {
    check(x.defined(), "softplus", "the input is an undefined tensor");
    // forward: the kernel of the active level (softplus_kernel.cpp), or the reference at scalar
    Tensor out = empty(x.shape());
    simd_dispatch(SoftplusForwardKernel{}, softplus_forward_reference, out.data(), x.data(), x.numel());
    // backward: needs x, so the closure keeps it (a Tensor is a handle: no copy of the data)
    record(out, "softplus", {x}, [x](const Tensor&, const Tensor& dout) -> Grads {
        Tensor dx = empty(x.shape());
        simd_dispatch(SoftplusBackwardKernel{}, softplus_backward_reference, dx.data(), dout.data(), x.data(),
                      x.numel());
        return {dx};
    });
    return out;
}

}  // namespace ag
