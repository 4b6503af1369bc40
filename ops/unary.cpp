// unary.cpp: elementwise functions of one tensor, as a table (formulas in unary.hpp).
//
//   forward   out[i] = f(x[i])                            x, out, dout, dx: all of x's shape
//   backward  dx[i]  = dout[i] * df(x[i], out[i])         df = f'(x), read from x and/or out
//
// THE UNARY TABLE: each function is one small struct whose `f` and `df` are written once, as
// templates over the value type T. T is float in the reference kernels below and
// xsimd::batch<float, Arch> in SIMD kernels, so the math must only use what exists for both:
// + - * /, comparisons, xsimd::exp/log/sqrt/tanh/erf/pow/max (xsimd 8.1 declares scalar
// overloads of these next to the batch ones) and select (batch only in xsimd 8.1: the scalar twin
// is defined below). Constants are written T(c), which broadcasts for a batch.
// df receives the output too, because for exp, tanh and sigmoid the derivative is cheapest from it.
//
// Adding a unary op:
//   1. a struct here with `f` and `df`;
//   2. a one-line function `Tensor name(const Tensor& x) { return unary_op("name", Name{}, x); }`
//      and its declaration in unary.hpp;
//   3. a line in the batch instantiation check at the end of the table, and tests (a hand-computed
//      value and a gradcheck line in tests/ops/test_unary.cpp).
#include "ops/unary.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"

#include <xsimd/xsimd.hpp>

namespace ag {

namespace {

// cond ? a : b for scalars; xsimd::select covers batches (found by argument-dependent lookup).
inline float select(bool cond, float a, float b) { return cond ? a : b; }

constexpr float kSqrtHalf = 0.70710678118654752f;      // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143268f;    // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286536f;   // √(2/π)
constexpr float kGeluCubic = 0.044715f;                // as PyTorch's approximate='tanh'

// --- the table: y = f(x), df(x, y) = dy/dx -------------------------------------------------------

struct Neg {
    template <class T> T f(T x) const { return -x; }
    template <class T> T df(T, T) const { return T(-1.0f); }
};

struct Exp {
    template <class T> T f(T x) const { return xsimd::exp(x); }
    template <class T> T df(T, T y) const { return y; }  // (e^x)' = e^x = y
};

struct Log {
    template <class T> T f(T x) const { return xsimd::log(x); }
    template <class T> T df(T x, T) const { return T(1.0f) / x; }
};

struct Sqrt {
    template <class T> T f(T x) const { return xsimd::sqrt(x); }
    template <class T> T df(T, T y) const { return T(0.5f) / y; }  // 1 / (2 √x)
};

struct Pow {
    float p;
    template <class T> T f(T x) const { return xsimd::pow(x, T(p)); }
    // NOTE: p x^(p-1), not p y / x: the quotient is 0/0 at x = 0.
    template <class T> T df(T x, T) const { return T(p) * xsimd::pow(x, T(p - 1.0f)); }
};

struct Tanh {
    template <class T> T f(T x) const { return xsimd::tanh(x); }
    template <class T> T df(T, T y) const { return T(1.0f) - y * y; }
};

struct Sigmoid {
    template <class T> T f(T x) const { return T(1.0f) / (T(1.0f) + xsimd::exp(-x)); }
    template <class T> T df(T, T y) const { return y * (T(1.0f) - y); }
};

struct Relu {
    template <class T> T f(T x) const { return xsimd::max(x, T(0.0f)); }
    // NOTE: strictly x > 0, so the gradient at exactly 0 is 0, as in PyTorch.
    template <class T> T df(T x, T) const { return select(x > T(0.0f), T(1.0f), T(0.0f)); }
};

// x Φ(x), Φ(x) = (1 + erf(x / √2)) / 2 the standard normal CDF, φ(x) = e^(-x²/2) / √(2π) its density.
struct Gelu {
    template <class T> T f(T x) const { return T(0.5f) * x * (T(1.0f) + xsimd::erf(x * T(kSqrtHalf))); }
    template <class T> T df(T x, T) const {
        T cdf = T(0.5f) * (T(1.0f) + xsimd::erf(x * T(kSqrtHalf)));
        T pdf = T(kInvSqrt2Pi) * xsimd::exp(T(-0.5f) * x * x);
        return cdf + x * pdf;
    }
};

// x (1 + tanh u) / 2 with u = √(2/π) (x + 0.044715 x³); df = (1 + t)/2 + x (1 - t²) u' / 2, t = tanh u.
struct GeluTanh {
    template <class T> static T u(T x) { return T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x); }
    template <class T> T f(T x) const { return T(0.5f) * x * (T(1.0f) + xsimd::tanh(u(x))); }
    template <class T> T df(T x, T) const {
        T t = xsimd::tanh(u(x));
        T du = T(kSqrt2OverPi) * (T(1.0f) + T(3.0f * kGeluCubic) * x * x);
        return T(0.5f) * (T(1.0f) + t) + T(0.5f) * x * (T(1.0f) - t * t) * du;
    }
};

// The claim above, checked by the compiler: every f and df instantiates for an xsimd batch.
// SSE2 is part of x86-64, so this needs no compiler flags.
#if XSIMD_WITH_SSE2
[[maybe_unused]] void unary_table_instantiates_for_batches() {
    using Batch = xsimd::batch<float, xsimd::sse2>;
    Batch x(0.5f), y(0.5f);
    auto check_entry = [&](auto op) {
        (void)op.f(x);
        (void)op.df(x, y);
    };
    check_entry(Neg{});
    check_entry(Exp{});
    check_entry(Log{});
    check_entry(Sqrt{});
    check_entry(Pow{1.5f});
    check_entry(Tanh{});
    check_entry(Sigmoid{});
    check_entry(Relu{});
    check_entry(Gelu{});
    check_entry(GeluTanh{});
}
#endif

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
    unary_forward_reference(op, out.data(), x.data(), x.numel());
    record(out, name, {x}, [op, x](const Tensor& out, const Tensor& dout) -> Grads {
        Tensor dx = empty(x.shape());
        unary_backward_reference(op, dx.data(), dout.data(), x.data(), out.data(), x.numel());
        return {dx};
    });
    return out;
}

}  // namespace

Tensor neg(const Tensor& x) { return unary_op("neg", Neg{}, x); }
Tensor exp(const Tensor& x) { return unary_op("exp", Exp{}, x); }
Tensor log(const Tensor& x) { return unary_op("log", Log{}, x); }
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", Sqrt{}, x); }
Tensor pow(const Tensor& x, float exponent) { return unary_op("pow", Pow{exponent}, x); }
Tensor tanh(const Tensor& x) { return unary_op("tanh", Tanh{}, x); }
Tensor sigmoid(const Tensor& x) { return unary_op("sigmoid", Sigmoid{}, x); }
Tensor relu(const Tensor& x) { return unary_op("relu", Relu{}, x); }

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
    if (approximate == GeluApproximation::Tanh) return unary_op("gelu", GeluTanh{}, x);
    return unary_op("gelu", Gelu{}, x);
}

}  // namespace ag
