// unary_kernel.cpp: every entry of the unary table (ops/unary_table.hpp) on SIMD batches, forward
// and backward, written once for any xsimd arch and compiled once per arch (ops/meson.build).
//
//   forward   out[i] = f(x[i])                     x, out, dout, dx: n contiguous floats
//   backward  dx[i]  = dout[i] * df(x[i], out[i])
// Phases: whole batches of W floats (16 / 8 / 4); then the n mod W tail, loaded into one batch
// with load_partial (ops/simd_row.hpp) and run through the same f or df.
//
// NOTE: the tail goes through a batch, not through f<float>: the table's structs have external
// linkage (they live in a header shared with the reference kernels in unary.cpp), so f<float>
// compiled here with AVX-512 flags and f<float> compiled in unary.cpp for baseline x86-64 would
// be one symbol, and the linker may keep either (the ODR trap of core/simd.hpp). Instantiated only
// on batches, every function here is tied to its arch.
//
// Results differ from the reference by the accuracy of xsimd's batch functions against the C
// library's (a few ulp; tests/ops/test_unary.cpp gives the bound of each entry).
#include "ops/unary_kernel.hpp"

#include "core/simd.hpp"
#include "ops/simd_row.hpp"
#include "ops/unary_table.hpp"

namespace ag {

template <class Op>
template <class Arch>
void UnaryForwardKernel<Op>::operator()(Arch, float* out, const float* x, int64_t n) const {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    // whole batches
    int64_t i = 0;
    for (; i + W <= n; i += W) op.f(B::load_unaligned(x + i)).store_unaligned(out + i);
    // the tail, through one batch
    if (i < n) store_partial(out + i, op.f(load_partial<Arch>(x + i, n - i)), n - i);
}

template <class Op>
template <class Arch>
void UnaryBackwardKernel<Op>::operator()(Arch, float* dx, const float* dout, const float* x, const float* out,
                                         int64_t n) const {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    // whole batches
    int64_t i = 0;
    for (; i + W <= n; i += W) {
        const B grad = op.df(B::load_unaligned(x + i), B::load_unaligned(out + i));
        (B::load_unaligned(dout + i) * grad).store_unaligned(dx + i);
    }
    // the tail, through one batch
    if (i < n) {
        const B grad = op.df(load_partial<Arch>(x + i, n - i), load_partial<Arch>(out + i, n - i));
        store_partial(dx + i, load_partial<Arch>(dout + i, n - i) * grad, n - i);
    }
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp): every
// table entry, forward and backward.
template void UnaryForwardKernel<unary::Neg>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Exp>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Log>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Sqrt>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Pow>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Tanh>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Sigmoid>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Relu>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::Gelu>::operator()(KernelArch, float*, const float*, int64_t) const;
template void UnaryForwardKernel<unary::GeluTanh>::operator()(KernelArch, float*, const float*, int64_t) const;

template void UnaryBackwardKernel<unary::Neg>::operator()(KernelArch, float*, const float*, const float*,
                                                          const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Exp>::operator()(KernelArch, float*, const float*, const float*,
                                                          const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Log>::operator()(KernelArch, float*, const float*, const float*,
                                                          const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Sqrt>::operator()(KernelArch, float*, const float*, const float*,
                                                           const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Pow>::operator()(KernelArch, float*, const float*, const float*,
                                                          const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Tanh>::operator()(KernelArch, float*, const float*, const float*,
                                                           const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Sigmoid>::operator()(KernelArch, float*, const float*, const float*,
                                                              const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Relu>::operator()(KernelArch, float*, const float*, const float*,
                                                           const float*, int64_t) const;
template void UnaryBackwardKernel<unary::Gelu>::operator()(KernelArch, float*, const float*, const float*,
                                                           const float*, int64_t) const;
template void UnaryBackwardKernel<unary::GeluTanh>::operator()(KernelArch, float*, const float*, const float*,
                                                               const float*, int64_t) const;

}  // namespace ag
