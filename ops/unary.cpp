// unary.cpp: elementwise functions of one tensor, as a table (formulas in unary.hpp, the table of
// f and df in unary_table.hpp).
//
//   forward   out[i] = f(x[i])                            x, out, dout, dx: all of x's shape
//   backward  dx[i]  = dout[i] * df(x[i], out[i])         df = f'(x), read from x and/or out
//
// The reference kernels below run the table on floats; ops/unary_kernel.cpp runs the same table
// on SIMD batches, compiled once per instruction set, and unary_op picks one through
// simd_dispatch (core/simd.hpp).
//
// Adding a unary op:
//   1. a struct in unary_table.hpp with `f` and `df`;
//   2. a one-line function `Tensor name(const Tensor& x) { return unary_op("name", unary::Name{}, x); }`
//      and its declaration in unary.hpp;
//   3. its two instantiation lines at the end of ops/unary_kernel.cpp, and tests (a hand-computed
//      value and a gradcheck line in tests/ops/test_unary.cpp, and an entry in its SIMD test).
#include "ops/unary.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/unary_kernel.hpp"
#include "ops/unary_table.hpp"

namespace ag {

namespace {

// --- the kernels ---------------------------------------------------------------------------------

// out[i] = f(x[i])
template <class Op>
void unary_forward_reference(Op op, float* out, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = op.f(x[i]);
}

// dx[i] = dout[i] * f'(x[i]), where f' may read the forward's output out[i] = f(x[i])
template <class Op>
void unary_backward_reference(Op op, float* dx, const float* dout, const float* x, const float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dx[i] = dout[i] * op.df(x[i], out[i]);
}

// The op shared by every entry: validate, run the forward, record the backward.
// NOTE: the backward keeps x alive even when df reads only the output: one rule for every entry.
template <class Op>
Tensor unary_op(std::string_view name, Op op, const Tensor& x) {
    check(x.defined(), name, "the input is an undefined tensor");
    Tensor out = empty(x.shape());
    // threads take chunks of kChunkFloats elements (core/parallel.hpp); each element is computed
    // the same way whichever chunk holds it
    float* y = out.data();
    const float* in = x.data();
    parallel_for(0, x.numel(), kChunkFloats, [&](int64_t i0, int64_t i1) {
        simd_dispatch(
            UnaryForwardKernel<Op>{op}, [op](float* y, const float* in, int64_t n) { unary_forward_reference(op, y, in, n); },
            y + i0, in + i0, i1 - i0);
    });
    record(out, name, {x}, [op, x](const Tensor& out, const Tensor& dout) -> Grads {
        Tensor dx = empty(x.shape());
        float* d = dx.data();
        const float *dy = dout.data(), *in = x.data(), *y = out.data();
        parallel_for(0, x.numel(), kChunkFloats, [&](int64_t i0, int64_t i1) {
            simd_dispatch(
                UnaryBackwardKernel<Op>{op},
                [op](float* d, const float* dy, const float* in, const float* y, int64_t n) {
                    unary_backward_reference(op, d, dy, in, y, n);
                },
                d + i0, dy + i0, in + i0, y + i0, i1 - i0);
        });
        return {dx};
    });
    return out;
}

}  // namespace

Tensor neg(const Tensor& x) { return unary_op("neg", unary::Neg{}, x); }
Tensor exp(const Tensor& x) { return unary_op("exp", unary::Exp{}, x); }
Tensor log(const Tensor& x) { return unary_op("log", unary::Log{}, x); }
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", unary::Sqrt{}, x); }
Tensor pow(const Tensor& x, float exponent) { return unary_op("pow", unary::Pow{exponent}, x); }
Tensor tanh(const Tensor& x) { return unary_op("tanh", unary::Tanh{}, x); }
Tensor sigmoid(const Tensor& x) { return unary_op("sigmoid", unary::Sigmoid{}, x); }
Tensor relu(const Tensor& x) { return unary_op("relu", unary::Relu{}, x); }

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
    if (approximate == GeluApproximation::Tanh) return unary_op("gelu", unary::GeluTanh{}, x);
    return unary_op("gelu", unary::Gelu{}, x);
}

}  // namespace ag
