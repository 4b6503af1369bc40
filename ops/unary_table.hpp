// unary_table.hpp: THE UNARY TABLE, the math of every elementwise function of one tensor
// (formulas in unary.hpp), shared by the reference kernels (ops/unary.cpp) and the SIMD kernels
// (ops/unary_kernel.cpp).
//
// Each function is one small struct whose `f` and `df` are written once, as templates over the
// value type T: float in the reference kernels, xsimd::batch<float, Arch> in the SIMD kernels. So
// the math uses only what exists for both: + - * /, comparisons, xsimd::exp/log/sqrt/tanh/erf/
// pow/max (xsimd 8.1 declares scalar overloads of these next to the batch ones) and select
// (batch only in xsimd 8.1: the scalar twin is defined below). Constants are written T(c), which
// broadcasts for a batch. df receives the output too, because for exp, tanh and sigmoid the
// derivative is cheapest from it.
//
//   forward   out[i] = f(x[i])
//   backward  dx[i]  = dout[i] * df(x[i], out[i])
#pragma once

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstddef>
#include <type_traits>

namespace ag::unary {

/// cond ? a : b for scalars; xsimd::select covers batches (found by argument-dependent lookup).
inline float select(bool cond, float a, float b) { return cond ? a : b; }

constexpr float kSqrtHalf = 0.70710678118654752f;      ///< 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143268f;    ///< 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286536f;   ///< √(2/π)
constexpr float kGeluCubic = 0.044715f;                ///< as PyTorch's approximate='tanh'

// --- the table: y = f(x), df(x, y) = dy/dx -------------------------------------------------------

/// -x.
struct Neg {
    /// f(x) = -x
    template <class T> T f(T x) const { return -x; }
    /// df(x, y) = -1
    template <class T> T df(T, T) const { return T(-1.0f); }
};

/// e^x.
struct Exp {
    /// f(x) = e^x
    template <class T> T f(T x) const { return xsimd::exp(x); }
    /// df(x, y) = e^x = y
    template <class T> T df(T, T y) const { return y; }  // (e^x)' = e^x = y
};

/// ln x.
struct Log {
    /// f(x) = ln x
    template <class T> T f(T x) const { return xsimd::log(x); }
    /// df(x, y) = 1 / x
    template <class T> T df(T x, T) const { return T(1.0f) / x; }
};

/// √x.
struct Sqrt {
    /// f(x) = √x
    template <class T> T f(T x) const { return xsimd::sqrt(x); }
    /// df(x, y) = 1 / (2 √x) = 0.5 / y
    template <class T> T df(T, T y) const { return T(0.5f) / y; }  // 1 / (2 √x)
};

/// x^p as C's pow, for a float or a batch.
// NOTE: xsimd 8.1's batch pow is e^(p log|x|) (with the sign for integer p), which is not C's pow
// where log|x| is not finite or p = 0: it gives 0 for pow(0, -1.5) (C: inf), NaN for pow(-inf, 2.5)
// (C: inf) and 0 or NaN for pow(x, 0) at x = 0, ±inf, NaN (C: 1). Those lanes, rare, are redone
// one by one with C's pow, so every SIMD level agrees with the reference.
template <class T>
T power(T x, float p) {
    if constexpr (std::is_same_v<T, float>) {
        return std::pow(x, p);
    } else {
        T y = xsimd::pow(x, T(p));
        const auto special = (x == T(0.0f)) | xsimd::isinf(x) | xsimd::isnan(x) | (T(p) == T(0.0f));
        if (xsimd::any(special)) {
            alignas(64) float xs[T::size], ys[T::size];
            x.store_aligned(xs);
            y.store_aligned(ys);
            for (std::size_t i = 0; i < T::size; ++i)
                if (xs[i] == 0.0f || std::isinf(xs[i]) || std::isnan(xs[i]) || p == 0.0f) ys[i] = std::pow(xs[i], p);
            y = T::load_aligned(ys);
        }
        return y;
    }
}

/// x^p.
struct Pow {
    float p;  ///< the exponent
    /// f(x) = x^p, with C's pow semantics (power above)
    template <class T> T f(T x) const { return power(x, p); }
    /// df(x, y) = p x^(p-1)
    // NOTE: p x^(p-1), not p y / x: the quotient is 0/0 at x = 0.
    template <class T> T df(T x, T) const { return T(p) * power(x, p - 1.0f); }
};

/// tanh x.
struct Tanh {
    /// f(x) = tanh x
    template <class T> T f(T x) const { return xsimd::tanh(x); }
    /// df(x, y) = 1 - tanh² x = 1 - y²
    template <class T> T df(T, T y) const { return T(1.0f) - y * y; }
};

/// 1 / (1 + e^-x).
struct Sigmoid {
    /// f(x) = 1 / (1 + e^-x)
    template <class T> T f(T x) const { return T(1.0f) / (T(1.0f) + xsimd::exp(-x)); }
    /// df(x, y) = σ(x) (1 - σ(x)) = y (1 - y)
    template <class T> T df(T, T y) const { return y * (T(1.0f) - y); }
};

/// max(x, 0), keeping NaN.
struct Relu {
    /// f(x) = x < 0 ? 0 : x (NaN stays NaN)
    // NOTE: not max(x, 0): x86's max returns its second operand when either is NaN and xsimd's
    // scalar max its first, so one of them turns NaN into 0. This keeps NaN, as PyTorch.
    template <class T> T f(T x) const { return select(x < T(0.0f), T(0.0f), x); }
    /// df(x, y) = x > 0 ? 1 : 0
    // NOTE: strictly x > 0, so the gradient at exactly 0 is 0, as in PyTorch.
    template <class T> T df(T x, T) const { return select(x > T(0.0f), T(1.0f), T(0.0f)); }
};

// x Φ(x), Φ(x) = (1 + erf(x / √2)) / 2 the standard normal CDF, φ(x) = e^(-x²/2) / √(2π) its density.
/// x Φ(x), the exact GELU.
struct Gelu {
    /// f(x) = x Φ(x) = x (1 + erf(x / √2)) / 2
    template <class T> T f(T x) const { return T(0.5f) * x * (T(1.0f) + xsimd::erf(x * T(kSqrtHalf))); }
    /// df(x, y) = Φ(x) + x φ(x)
    template <class T> T df(T x, T) const {
        T cdf = T(0.5f) * (T(1.0f) + xsimd::erf(x * T(kSqrtHalf)));
        T pdf = T(kInvSqrt2Pi) * xsimd::exp(T(-0.5f) * x * x);
        return cdf + x * pdf;
    }
};

// x (1 + tanh u) / 2 with u = √(2/π) (x + 0.044715 x³); df = (1 + t)/2 + x (1 - t²) u' / 2, t = tanh u.
/// GELU's tanh approximation.
struct GeluTanh {
    /// u(x) = √(2/π) (x + 0.044715 x³), the argument of the tanh
    template <class T> static T u(T x) { return T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x); }
    /// f(x) = x (1 + tanh u(x)) / 2
    template <class T> T f(T x) const { return T(0.5f) * x * (T(1.0f) + xsimd::tanh(u(x))); }
    /// df(x, y) = (1 + t) / 2 + x (1 - t²) u'(x) / 2, t = tanh u(x)
    template <class T> T df(T x, T) const {
        T t = xsimd::tanh(u(x));
        T du = T(kSqrt2OverPi) * (T(1.0f) + T(3.0f * kGeluCubic) * x * x);
        return T(0.5f) * (T(1.0f) + t) + T(0.5f) * x * (T(1.0f) - t * t) * du;
    }
};

}  // namespace ag::unary
