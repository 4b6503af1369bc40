// binary_kernel.hpp: the math of add, sub, mul, div (shared by the reference kernel in
// ops/binary.cpp and the SIMD kernel in ops/binary_kernel.cpp), and the SIMD kernel's contract.
//
// The SIMD kernel covers the layouts that fill almost every call: the output seen as R rows of
// C contiguous columns, and each operand, per row, either a row of C floats or one float:
//   same shape      a, b full rows                               R = 1, C = n
//   a scalar        out = op(s, b)    (or b scalar: op(a, s))    R = 1, C = n
//   a bias          out[r, :] = op(a[r, :], b[:])  (or a[:] with b[r, :])   C = last dimension
// An operand is read at op_row + r · row_stride + c · col_stride: a full operand has
// (row_stride, col_stride) = (C, 1), a row shared by every row (0, 1), a scalar (0, 0).
// Every other broadcast goes through the reference kernel.
#pragma once

#include <cstdint>

namespace ag {

namespace binary {

// The math, written once for any value type: float in the reference, xsimd batches in the SIMD kernel.
/// a + b
struct Add { template <class T> T operator()(T a, T b) const { return a + b; } };
/// a - b
struct Sub { template <class T> T operator()(T a, T b) const { return a - b; } };
/// a * b
struct Mul { template <class T> T operator()(T a, T b) const { return a * b; } };
/// a / b
struct Div { template <class T> T operator()(T a, T b) const { return a / b; } };

}  // namespace binary

/// Where an operand's elements are, in the kernel's R × C view of the output.
struct RowOperand {
    /// the operand's element at row 0, column 0 of the view
    const float* data;
    int64_t row_stride;  ///< C (a full operand) or 0 (shared by every row)
    int64_t col_stride;  ///< 1 (a row of C floats) or 0 (one float)
};

/// out[r, c] = op(a[r, c], b[r, c]) over R rows of C columns, each operand read as RowOperand says.
template <class Op>
struct BinaryKernel {
    template <class Arch>
    void operator()(Arch, float* out, RowOperand a, RowOperand b, int64_t rows, int64_t cols) const;
};

}  // namespace ag
