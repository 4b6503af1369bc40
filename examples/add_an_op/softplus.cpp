// softplus.cpp: the whole softplus op in one file: its reference kernels and the op (which
// validates, runs the forward kernel of the active SIMD level and records its backward), and its
// SIMD kernels, written once for any xsimd arch.
//
//   forward   out[i] = max(x, 0) + log1p(e^-|x|)     x, out, dout, dx: n contiguous floats
//   backward  dx[i]  = dout[i] / (1 + e^-x)          W = floats per batch (16 / 8 / 4)
//
// The file is compiled four times (meson.build): once with the baseline flags, where it is the
// reference kernels and the op, and once per SIMD level with that level's -march flags and
// -DAG_KERNEL_BUILD, where it is only the SIMD kernels for that level (KernelArch, core/simd.hpp).
// The #if below picks the half.
//
// NOTE: each half must only ever be compiled with its own flags. The op and the reference kernels
// compiled with -march=x86-64-v4 would be AVX-512 code, and so would every inline function they
// instantiate from the headers (Tensor's, std::vector's, fmt's): those are weak symbols the linker
// keeps one copy of, any one, so the scalar and sse2 paths, and the rest of the program, might run
// AVX-512 instructions and die with SIGILL on an older CPU (the ODR trap, docs/dispatch.md). The
// kernels, the other way round, must be compiled per level, or the levels would have no code.
#include "softplus.hpp"

#include "core/simd.hpp"

#ifndef AG_KERNEL_BUILD
// ============ compiled once, with the baseline flags: the reference kernels and the op =========

#include "core/autograd.hpp"
#include "core/error.hpp"

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

// NOTE: this half sees the kernels' operator() declared (softplus.hpp) but not defined, so
// simd_dispatch's calls cannot be instantiated here with the baseline flags: they link to the
// per-level copies the other half provides.
Tensor softplus(const Tensor& x) {
    check(x.defined(), "softplus", "the input is an undefined tensor");
    // forward: the SIMD kernel of the active level (the other half), or the reference at scalar
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

#else
// ============ compiled once per SIMD level, with its flags: the SIMD kernels ===================
// Phases: whole batches of W floats; then the n mod W tail, loaded into one batch with
// load_partial (ops/simd_row.hpp) and run through the same math.
//
// NOTE: the math below is in an anonymous namespace and templated on Arch. This half is compiled
// three times with different -march flags; a helper with external linkage would get one symbol in
// all three objects, the linker would keep any one of them, and the sse2 level might then run
// AVX-512 instructions (the ODR trap of core/simd.hpp). The tail goes through a batch for the same
// reason: the math is never instantiated on plain float here.
//
// Results differ from the reference by the accuracy of xsimd's exp and log1p against the C
// library's (a few ulp), and xsimd's exp flushes results below 2^-126 to 0.

#include "ops/simd_row.hpp"

namespace ag {

namespace {

template <class Arch>
using Batch = xsimd::batch<float, Arch>;

// NOTE: a NaN lane may lose its NaN in max (x86's max returns its second operand), but the
// log1p term keeps it, so NaN in gives NaN out, as in the reference.
template <class Arch>
Batch<Arch> softplus_of(Batch<Arch> x) {
    return xsimd::max(x, Batch<Arch>(0.0f)) + xsimd::log1p(xsimd::exp(-xsimd::abs(x)));
}

template <class Arch>
Batch<Arch> softplus_grad(Batch<Arch> dout, Batch<Arch> x) {
    return dout / (Batch<Arch>(1.0f) + xsimd::exp(-x));
}

}  // namespace

template <class Arch>
void SoftplusForwardKernel::operator()(Arch, float* out, const float* x, int64_t n) const {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // whole batches
    int64_t i = 0;
    for (; i + W <= n; i += W) softplus_of<Arch>(B::load_unaligned(x + i)).store_unaligned(out + i);
    // the tail, through one batch
    if (i < n) store_partial(out + i, softplus_of<Arch>(load_partial<Arch>(x + i, n - i)), n - i);
}

template <class Arch>
void SoftplusBackwardKernel::operator()(Arch, float* dx, const float* dout, const float* x, int64_t n) const {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // whole batches
    int64_t i = 0;
    for (; i + W <= n; i += W)
        softplus_grad<Arch>(B::load_unaligned(dout + i), B::load_unaligned(x + i)).store_unaligned(dx + i);
    // the tail, through one batch
    if (i < n)
        store_partial(dx + i, softplus_grad<Arch>(load_partial<Arch>(dout + i, n - i), load_partial<Arch>(x + i, n - i)),
                      n - i);
}

// This compile serves the arch its flags target (KernelArch, core/simd.hpp).
template void SoftplusForwardKernel::operator()(KernelArch, float*, const float*, int64_t) const;
template void SoftplusBackwardKernel::operator()(KernelArch, float*, const float*, const float*, int64_t) const;

}  // namespace ag

#endif  // AG_KERNEL_BUILD
