// softplus_kernel.cpp: softplus forward and backward on SIMD batches, written once for any xsimd
// arch and compiled once per arch (meson.build: one static library per level, with its flags).
//
//   forward   out[i] = max(x, 0) + log1p(e^-|x|)     x, out, dout, dx: n contiguous floats
//   backward  dx[i]  = dout[i] / (1 + e^-x)          W = floats per batch (16 / 8 / 4)
// Phases: whole batches of W floats; then the n mod W tail, loaded into one batch with
// load_partial (ops/simd_row.hpp) and run through the same math.
//
// NOTE: the math below is in an anonymous namespace and templated on Arch. This file is compiled
// three times with different -march flags; a helper with external linkage would get one symbol in
// all three objects, the linker would keep any one of them, and the sse2 level might then run
// AVX-512 instructions (the ODR trap of core/simd.hpp). The tail goes through a batch for the same
// reason: the math is never instantiated on plain float here.
//
// Results differ from the reference by the accuracy of xsimd's exp and log1p against the C
// library's (a few ulp), and xsimd's exp flushes results below 2^-126 to 0.
#include "softplus.hpp"

#include "core/simd.hpp"
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

// This copy of the file serves the arch its compiler flags target (KernelArch, core/simd.hpp).
template void SoftplusForwardKernel::operator()(KernelArch, float*, const float*, int64_t) const;
template void SoftplusBackwardKernel::operator()(KernelArch, float*, const float*, const float*, int64_t) const;

}  // namespace ag
