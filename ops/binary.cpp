// binary.cpp: add, sub, mul, div with NumPy broadcasting (formulas in binary.hpp).
//
// One reference kernel serves all four: it walks the output and reads each input through
// broadcast strides (stride 0 along a broadcast dimension, so the same element is reused).
#include "ops/binary.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "ops/unary.hpp"

namespace ag {

namespace {

// The math, written once for any value type: float here, xsimd::batch<float> in SIMD kernels.
struct Add { template <class T> T operator()(T a, T b) const { return a + b; } };
struct Sub { template <class T> T operator()(T a, T b) const { return a - b; } };
struct Mul { template <class T> T operator()(T a, T b) const { return a * b; } };
struct Div { template <class T> T operator()(T a, T b) const { return a / b; } };

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

// The forward shared by the four ops: broadcast the shapes, allocate, run the kernel.
template <class Op>
Tensor binary_forward(std::string_view name, Op op, const Tensor& a, const Tensor& b) {
    check(a.defined() && b.defined(), name, "an operand is an undefined tensor");
    Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
    Tensor out = empty(shape);
    binary_reference(op, out.data(), a.data(), b.data(), shape, broadcast_strides(a.shape(), shape),
                     broadcast_strides(b.shape(), shape));
    return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("add", Add{}, a, b);
    record(out, "add", {a, b}, [](const Tensor&, const Tensor& dout) -> Grads {
        return {dout, dout};  // the engine sums each back to its input's shape
    });
    return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("sub", Sub{}, a, b);
    record(out, "sub", {a, b}, [](const Tensor&, const Tensor& dout) -> Grads { return {dout, neg(dout)}; });
    return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("mul", Mul{}, a, b);
    record(out, "mul", {a, b}, [a, b](const Tensor&, const Tensor& dout) -> Grads {
        return {mul(dout, b), mul(dout, a)};
    });
    return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
    Tensor out = binary_forward("div", Div{}, a, b);
    record(out, "div", {a, b}, [b](const Tensor& out, const Tensor& dout) -> Grads {
        // d(a/b)/db = -a/b² = -out/b
        return {div(dout, b), neg(div(mul(dout, out), b))};
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
