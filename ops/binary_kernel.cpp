// binary_kernel.cpp: add, sub, mul, div on SIMD batches for the row layouts of binary_kernel.hpp
// (same shape, scalar, bias row), written once for any xsimd arch and compiled once per arch
// (ops/meson.build).
//
//   out[r, c] = op(a[r, c], b[r, c])     out: R rows of C contiguous columns; a, b: a row or a float per row
// Each row: whole batches of W floats (16 / 8 / 4), each operand loaded as W floats or broadcast
// from its one float; then the C mod W tail through one batch (load_partial, ops/simd_row.hpp).
// The result is the reference's bit for bit: one IEEE operation per element either way.
//
// NOTE: the tail goes through a batch, not through op<float>: the ops' structs live in a header
// shared with the reference kernel, so op<float> compiled here with AVX-512 flags and in
// binary.cpp for baseline x86-64 would be one symbol (the ODR trap of core/simd.hpp).
#include "ops/binary_kernel.hpp"

#include "core/simd.hpp"
#include "ops/simd_row.hpp"

namespace ag {

namespace {

// Operand a's W floats at column c of the current row: loaded, or its one float broadcast.
template <class Arch>
xsimd::batch<float, Arch> load(const float* row, int64_t col_stride, int64_t c) {
    return col_stride ? xsimd::batch<float, Arch>::load_unaligned(row + c) : xsimd::batch<float, Arch>(row[0]);
}
template <class Arch>
xsimd::batch<float, Arch> load_tail(const float* row, int64_t col_stride, int64_t c, int64_t n) {
    return col_stride ? load_partial<Arch>(row + c, n) : xsimd::batch<float, Arch>(row[0]);
}

}  // namespace

template <class Op>
template <class Arch>
void BinaryKernel<Op>::operator()(Arch, float* out, RowOperand a, RowOperand b, int64_t rows, int64_t cols) const {
    constexpr int64_t W = xsimd::batch<float, Arch>::size;
    const Op op;
    for (int64_t r = 0; r < rows; ++r) {
        const float* ar = a.data + r * a.row_stride;
        const float* br = b.data + r * b.row_stride;
        float* o = out + r * cols;
        // whole batches
        int64_t c = 0;
        for (; c + W <= cols; c += W)
            op(load<Arch>(ar, a.col_stride, c), load<Arch>(br, b.col_stride, c)).store_unaligned(o + c);
        // the tail, through one batch
        if (c < cols) {
            const int64_t n = cols - c;
            store_partial(o + c, op(load_tail<Arch>(ar, a.col_stride, c, n), load_tail<Arch>(br, b.col_stride, c, n)),
                          n);
        }
    }
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void BinaryKernel<binary::Add>::operator()(KernelArch, float*, RowOperand, RowOperand, int64_t,
                                                    int64_t) const;
template void BinaryKernel<binary::Sub>::operator()(KernelArch, float*, RowOperand, RowOperand, int64_t,
                                                    int64_t) const;
template void BinaryKernel<binary::Mul>::operator()(KernelArch, float*, RowOperand, RowOperand, int64_t,
                                                    int64_t) const;
template void BinaryKernel<binary::Div>::operator()(KernelArch, float*, RowOperand, RowOperand, int64_t,
                                                    int64_t) const;

}  // namespace ag
