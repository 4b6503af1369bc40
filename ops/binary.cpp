// binary.cpp: add, sub, mul, div with NumPy broadcasting (formulas in binary.hpp).
//
// One reference kernel serves all four: it walks the output and reads each input through
// broadcast strides (stride 0 along a broadcast dimension, so the same element is reused).
// The common layouts (same shape, a scalar, a bias row broadcast over the last dimension) run
// the SIMD kernel of ops/binary_kernel.cpp instead, through simd_dispatch (core/simd.hpp); its
// results are the same bits.
#include "ops/binary.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/binary_kernel.hpp"
#include "ops/unary.hpp"

#include <optional>

namespace ag {

namespace {

// out[i] = op(a[ia], b[ib]) over every index of `shape`, where ia and ib follow the inputs'
// broadcast strides.
template <class Op>
void binary_reference(Op op, float* out, const float* a, const float* b, const Shape& shape,
                      const std::array<int64_t, kMaxDims>& a_strides, const std::array<int64_t, kMaxDims>& b_strides) {
    std::array<int64_t, kMaxDims> index{};
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0, n = shape.numel(); i < n; ++i) {
        out[i] = op(a[ia], b[ib]);
        // advance the multi-index like an odometer; ia and ib move with it
        for (int d = shape.ndim() - 1; d >= 0; --d) {
            ia += a_strides[d];
            ib += b_strides[d];
            if (++index[d] < shape[d]) break;
            ia -= a_strides[d] * shape[d];
            ib -= b_strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

// Whether `s` is `out`'s last dimensions (after dropping s's leading 1s): then s repeats, whole,
// every s.numel() elements of out.
bool is_trailing_block(const Shape& s, const Shape& out) {
    int lead = 0;
    while (lead < s.ndim() && s[lead] == 1) ++lead;
    const int k = s.ndim() - lead;  // the dimensions that are not leading 1s
    if (k == 0 || k > out.ndim()) return false;
    for (int d = 1; d <= k; ++d)
        if (s[-d] != out[-d]) return false;
    return true;
}

// The SIMD kernel's view of a call (binary_kernel.hpp): R rows of C columns and how each operand
// is read, or nothing when the broadcast is not one of its layouts.
struct RowLayout {
    int64_t rows, cols;
    int64_t a_row_stride, a_col_stride, b_row_stride, b_col_stride;
};
std::optional<RowLayout> row_layout(const Shape& a, const Shape& b, const Shape& out) {
    const int64_t n = out.numel();
    if (n == 0) return std::nullopt;
    // same shape, or a scalar against a full operand: one row of n
    if (a == out && b == out) return RowLayout{1, n, 0, 1, 0, 1};
    if (a == out && b.numel() == 1) return RowLayout{1, n, 0, 1, 0, 0};
    if (a.numel() == 1 && b == out) return RowLayout{1, n, 0, 0, 0, 1};
    // a block of the trailing dimensions shared by every row: a bias (D,) over [..., D], or a
    // position table (T, D) over [B, T, D]; leading 1s allowed, as in (1, ..., 1, T, D)
    if (a == out && is_trailing_block(b, out)) return RowLayout{n / b.numel(), b.numel(), b.numel(), 1, 0, 1};
    if (is_trailing_block(a, out) && b == out) return RowLayout{n / a.numel(), a.numel(), 0, 1, a.numel(), 1};
    return std::nullopt;
}

// The forward shared by the four ops: broadcast the shapes, allocate, run a kernel.
template <class Op>
Tensor binary_forward(std::string_view name, Op op, const Tensor& a, const Tensor& b) {
    check(a.defined() && b.defined(), name, "an operand is an undefined tensor");
    Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
    Tensor out = empty(shape);
    auto reference = [&] {
        binary_reference(op, out.data(), a.data(), b.data(), shape, broadcast_strides(a.shape(), shape),
                         broadcast_strides(b.shape(), shape));
    };
    const std::optional<RowLayout> layout = row_layout(a.shape(), b.shape(), shape);
    if (!layout) {
        reference();
        return out;
    }
    // a SIMD layout: the kernel of the active level, or the reference at the scalar level
    const RowLayout& l = *layout;
    if (simd_level() == SimdLevel::scalar) {
        reference();
        return out;
    }
    // threads take chunks of rows, or of columns when there is one row (core/parallel.hpp); each
    // element is computed the same way whichever chunk holds it
    float* y = out.data();
    auto run = [&](int64_t r0, int64_t c0, int64_t rows, int64_t cols) {
        const RowOperand ra{a.data() + r0 * l.a_row_stride + c0 * l.a_col_stride, l.a_row_stride, l.a_col_stride};
        const RowOperand rb{b.data() + r0 * l.b_row_stride + c0 * l.b_col_stride, l.b_row_stride, l.b_col_stride};
        simd_dispatch(BinaryKernel<Op>{}, [&](auto&&...) { reference(); }, y + r0 * l.cols + c0, ra, rb, rows, cols);
    };
    if (l.rows == 1)
        parallel_for(0, l.cols, kChunkFloats, [&](int64_t c0, int64_t c1) { run(0, c0, 1, c1 - c0); });
    else
        parallel_for(0, l.rows, row_grain(l.cols), [&](int64_t r0, int64_t r1) { run(r0, 0, r1 - r0, l.cols); });
    return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("add", binary::Add{}, a, b);
    record(out, "add", {a, b}, [](const Tensor&, const Tensor& dout) -> Grads {
        return {dout, dout};  // the engine sums each back to its input's shape
    });
    return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("sub", binary::Sub{}, a, b);
    const bool grad_b = b.requires_grad();
    record(out, "sub", {a, b}, [grad_b](const Tensor&, const Tensor& dout) -> Grads {
        return {dout, grad_b ? neg(dout) : Tensor()};
    });
    return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("mul", binary::Mul{}, a, b);
    // an operand that needs no gradient (a constant mask or scale) gets none computed
    const bool grad_a = a.requires_grad(), grad_b = b.requires_grad();
    record(out, "mul", {a, b}, [a, b, grad_a, grad_b](const Tensor&, const Tensor& dout) -> Grads {
        return {grad_a ? mul(dout, b) : Tensor(), grad_b ? mul(dout, a) : Tensor()};
    });
    return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("div", binary::Div{}, a, b);
    const bool grad_a = a.requires_grad(), grad_b = b.requires_grad();
    record(out, "div", {a, b}, [b, grad_a, grad_b](const Tensor& out, const Tensor& dout) -> Grads {
        // d(a/b)/db = -a/b² = -out/b
        return {grad_a ? div(dout, b) : Tensor(), grad_b ? neg(div(mul(dout, out), b)) : Tensor()};
    });
    return out;
}

Tensor scalar(float value) { return full(Shape{}, value); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, float b) { return add(a, scalar(b)); }
Tensor operator-(const Tensor& a, float b) { return sub(a, scalar(b)); }
Tensor operator*(const Tensor& a, float b) { return mul(a, scalar(b)); }
Tensor operator/(const Tensor& a, float b) { return div(a, scalar(b)); }
Tensor operator+(float a, const Tensor& b) { return add(scalar(a), b); }
Tensor operator-(float a, const Tensor& b) { return sub(scalar(a), b); }
Tensor operator*(float a, const Tensor& b) { return mul(scalar(a), b); }
Tensor operator/(float a, const Tensor& b) { return div(scalar(a), b); }
Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace ag
