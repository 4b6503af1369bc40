// softmax_kernel.cpp: softmax and log_softmax over rows, written once for any xsimd arch and
// compiled once per arch (ops/meson.build). The contracts, and how -inf, NaN and fully masked
// rows behave, are those of the reference kernels in ops/softmax.cpp.
//
// Shapes: x, out, dout, dx: R rows of C contiguous columns. W = floats per batch (16 / 8 / 4).
//   m = max_j x_j,   shift = m (0 when m = -inf: a fully masked row),   s = Σ_j e^(x_j - shift)
//   softmax:      y_i = e^(x_i - shift) / s   (0 when s = 0)    dx_i = y_i (dy_i - Σ_j dy_j y_j)
//   log_softmax:  y_i = x_i - (shift + log s) (x_i when s = 0)  dx_i = dy_i - e^(y_i) Σ_j dy_j
// A row is read in three passes (max; exp and sum; scale) while it sits in L1 (1000 floats are
// 4 KB). Each pass runs over whole batches, then over the C mod W leftover floats with the same
// functor on float.
//
// Where the results differ from the reference (the tolerance in tests/ops/test_softmax.cpp):
// xsimd::exp is within about 1 ulp of std::exp and flushes results below 2^-126 to 0, and the
// sums add W partial sums in another order. Masked entries (0 / -inf) and fully masked rows
// (zeros, gradient zero) come out exactly as in the reference, and NaN or +inf still turns the
// whole row NaN (a NaN max, which _mm_max_ps may give where std::max skips the NaN, makes every
// exponent NaN; the reference gets there through the sum).
#include "ops/softmax_kernel.hpp"

#include "core/simd.hpp"
#include "ops/simd_row.hpp"

#include <cmath>
#include <type_traits>

namespace ag {

namespace {

template <class Arch>
using Batch = xsimd::batch<float, Arch>;

// The shift that makes every exponent <= 0: the max, or 0 for a fully masked row, where
// -inf - (-inf) would be NaN (as row_shift in softmax.cpp).
float shift_of(float max) { return max == -INFINITY ? 0.0f : max; }

// e^x for the shifted inputs x <= 0 of a row (also -inf: masked, and NaN: a NaN row), on avx512
// in about a third of xsimd::exp's instructions, which spends most of its time on the overflow
// and underflow cases that x <= 0 never or barely reaches:
//   x = n ln2 + r,  n = round(x log2(e)),  |r| <= ln2 / 2     (ln2 in two parts: r is exact)
//   e^x = 2^n e^r,  e^r by its Taylor polynomial of degree 7 (truncation 5e-9, below 0.1 ulp)
// and 2^n applied by vscalefps, which also rounds the results below 2^-126 correctly to
// subnormals or 0 (xsimd::exp flushes them to 0). x is clamped at -110 first, where e^x rounds to
// 0 in float: -inf then gives exactly 0 rather than going through the NaN of -inf - n ln2.
// (The Xeon this was written on returns 0 for vscalefps(NaN, -inf) anyway, so no test can see
// the clamp there; it keeps the result from depending on that.) Other arches keep xsimd::exp.
template <class Arch>
xsimd::batch<float, Arch> exp_nonpositive(xsimd::batch<float, Arch> x) {
    if constexpr (std::is_same_v<Arch, Avx512Arch>) {
        // NOTE: max_ps returns its second operand when either is NaN: x second keeps a NaN
        const __m512 v = _mm512_max_ps(_mm512_set1_ps(-110.0f), x);
        const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.44269504f)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), v);  // x - n ln2_hi: exact
        r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);       // - n ln2_lo
        // Horner: 1 + r (1 + r (1/2 + r (1/6 + ... + r / 5040)))
        __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
        for (float c : {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f})
            p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
        return _mm512_scalef_ps(p, n);
    } else {
        return xsimd::exp(x);
    }
}

// e^(x - shift), for a batch or a float
struct ShiftedExp {
    float shift;
    template <class Arch>
    xsimd::batch<float, Arch> operator()(xsimd::batch<float, Arch> x) const {
        return exp_nonpositive<Arch>(x - shift);
    }
    float operator()(float x) const { return xsimd::exp(x - shift); }
};

// dx = dy - e^y Σ dy, the log_softmax gradient of one entry, for a batch or a float
struct LogSoftmaxGrad {
    float sum_dy;
    template <class T>
    T operator()(T y, T dy) const {
        return dy - xsimd::exp(y) * sum_dy;
    }
};

template <class Arch>
void softmax_row(float* y, const float* x, int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // max
    const ShiftedExp exp_shifted{shift_of(row_max<Arch>(x, cols))};
    // exp and sum: y holds the exponentials
    B acc(0.0f);
    int64_t c = 0;
    for (; c + W <= cols; c += W) {
        const B e = exp_shifted(B::load_unaligned(x + c));
        e.store_unaligned(y + c);
        acc += e;
    }
    float sum = xsimd::hadd(acc);
    for (; c < cols; ++c) {
        y[c] = exp_shifted(x[c]);
        sum += y[c];
    }
    // scale: sum >= 1 unless the row is fully masked (sum = 0), whose zeros stay zeros
    const float inv_sum = sum == 0.0f ? 0.0f : 1.0f / sum;
    for (c = 0; c + W <= cols; c += W) (B::load_unaligned(y + c) * inv_sum).store_unaligned(y + c);
    for (; c < cols; ++c) y[c] *= inv_sum;
}

// softmax of `rows` rows of C = NB·W floats (NB <= 4 whole batches: 64 floats at avx512, the
// attention rows of the benchmark config), two rows at a time, each held in NB registers from
// its load to its store. A row alone is a chain of dependent steps (max, fold the lanes, exp,
// sum, fold, divide) about 150 cycles long; two independent chains interleaved keep the vector
// units busy while each waits. The same
// operations in the same order as softmax_row, so the same bits.
template <class Arch, int NB>
void softmax_rows_in_registers(float* y, const float* x, int64_t rows) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size, C = NB * W;
    constexpr int R = 2;  // rows in flight
    int64_t r = 0;
    for (; r + R <= rows; r += R) {
        B v[R][NB];
        float shift[R];
#pragma GCC unroll 2
        for (int q = 0; q < R; ++q) {
            // load and max
            B max(-INFINITY);
#pragma GCC unroll 4
            for (int k = 0; k < NB; ++k) {
                v[q][k] = B::load_unaligned(x + (r + q) * C + k * W);
                max = xsimd::max(max, v[q][k]);
            }
            shift[q] = shift_of(reduce_max<Arch>(max));
        }
        float inv_sum[R];
#pragma GCC unroll 2
        for (int q = 0; q < R; ++q) {
            // exp and sum
            const ShiftedExp exp_shifted{shift[q]};
            B acc(0.0f);
#pragma GCC unroll 4
            for (int k = 0; k < NB; ++k) {
                v[q][k] = exp_shifted(v[q][k]);
                acc += v[q][k];
            }
            const float sum = xsimd::hadd(acc);
            inv_sum[q] = sum == 0.0f ? 0.0f : 1.0f / sum;  // a fully masked row: zeros stay zeros
        }
        // scale
#pragma GCC unroll 2
        for (int q = 0; q < R; ++q)
#pragma GCC unroll 4
            for (int k = 0; k < NB; ++k) (v[q][k] * inv_sum[q]).store_unaligned(y + (r + q) * C + k * W);
    }
    for (; r < rows; ++r) softmax_row<Arch>(y + r * C, x + r * C, C);
}

template <class Arch>
void log_softmax_row(float* y, const float* x, int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // max
    const float shift = shift_of(row_max<Arch>(x, cols));
    const ShiftedExp exp_shifted{shift};
    // sum of exponentials
    B acc(0.0f);
    int64_t c = 0;
    for (; c + W <= cols; c += W) acc += exp_shifted(B::load_unaligned(x + c));
    float sum = xsimd::hadd(acc);
    for (; c < cols; ++c) sum += exp_shifted(x[c]);
    // subtract the log-sum-exp (0 for a fully masked row, whose entries stay -inf)
    const float log_sum_exp = sum == 0.0f ? 0.0f : shift + std::log(sum);
    for (c = 0; c + W <= cols; c += W) (B::load_unaligned(x + c) - log_sum_exp).store_unaligned(y + c);
    for (; c < cols; ++c) y[c] = x[c] - log_sum_exp;
}

template <class Arch>
void softmax_backward_row(float* dx, const float* y, const float* dy, int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // Σ_j dy_j y_j
    B acc(0.0f);
    int64_t c = 0;
    for (; c + W <= cols; c += W) acc += B::load_unaligned(dy + c) * B::load_unaligned(y + c);
    float dot = xsimd::hadd(acc);
    for (; c < cols; ++c) dot += dy[c] * y[c];
    // dx_i = y_i (dy_i - dot): zero wherever y_i = 0 (masked entries, masked rows)
    for (c = 0; c + W <= cols; c += W) {
        const B yc = B::load_unaligned(y + c);
        (yc * (B::load_unaligned(dy + c) - dot)).store_unaligned(dx + c);
    }
    for (; c < cols; ++c) dx[c] = y[c] * (dy[c] - dot);
}

template <class Arch>
void log_softmax_backward_row(float* dx, const float* y, const float* dy, int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // Σ_j dy_j, and whether every output is -inf (a fully masked row; NaN does not count)
    // NOTE: test y == -inf, not "not y != -inf": xsimd's != is an ordered compare, false for NaN
    B acc(0.0f);
    xsimd::batch_bool<float, Arch> all_masked(true);
    int64_t c = 0;
    for (; c + W <= cols; c += W) {
        acc += B::load_unaligned(dy + c);
        all_masked = all_masked & (B::load_unaligned(y + c) == B(-INFINITY));
    }
    float sum_dy = xsimd::hadd(acc);
    bool masked = xsimd::all(all_masked);
    for (; c < cols; ++c) {
        sum_dy += dy[c];
        masked = masked && y[c] == -INFINITY;
    }
    // a fully masked row's output is -inf whatever x is: its gradient is 0
    if (masked) {
        for (c = 0; c < cols; ++c) dx[c] = 0.0f;
        return;
    }
    // dx_i = dy_i - e^(y_i) Σ_j dy_j
    const LogSoftmaxGrad grad{sum_dy};
    for (c = 0; c + W <= cols; c += W)
        grad(B::load_unaligned(y + c), B::load_unaligned(dy + c)).store_unaligned(dx + c);
    for (; c < cols; ++c) dx[c] = grad(y[c], dy[c]);
}

}  // namespace

template <class Arch>
void SoftmaxForwardKernel::operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const {
    // short rows of whole batches: two at a time, in registers
    constexpr int64_t W = Batch<Arch>::size;
    switch (cols % W == 0 ? cols / W : 0) {
        case 1: return softmax_rows_in_registers<Arch, 1>(out, x, rows);
        case 2: return softmax_rows_in_registers<Arch, 2>(out, x, rows);
        case 3: return softmax_rows_in_registers<Arch, 3>(out, x, rows);
        case 4: return softmax_rows_in_registers<Arch, 4>(out, x, rows);
        default: break;
    }
    for (int64_t r = 0; r < rows; ++r) softmax_row<Arch>(out + r * cols, x + r * cols, cols);
}

template <class Arch>
void SoftmaxBackwardKernel::operator()(Arch, float* dx, const float* out, const float* dout, int64_t rows,
                                       int64_t cols) const {
    for (int64_t r = 0; r < rows; ++r)
        softmax_backward_row<Arch>(dx + r * cols, out + r * cols, dout + r * cols, cols);
}

template <class Arch>
void LogSoftmaxForwardKernel::operator()(Arch, float* out, const float* x, int64_t rows, int64_t cols) const {
    for (int64_t r = 0; r < rows; ++r) log_softmax_row<Arch>(out + r * cols, x + r * cols, cols);
}

template <class Arch>
void LogSoftmaxBackwardKernel::operator()(Arch, float* dx, const float* out, const float* dout, int64_t rows,
                                          int64_t cols) const {
    for (int64_t r = 0; r < rows; ++r)
        log_softmax_backward_row<Arch>(dx + r * cols, out + r * cols, dout + r * cols, cols);
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void SoftmaxForwardKernel::operator()(KernelArch, float*, const float*, int64_t, int64_t) const;
template void SoftmaxBackwardKernel::operator()(KernelArch, float*, const float*, const float*, int64_t,
                                                int64_t) const;
template void LogSoftmaxForwardKernel::operator()(KernelArch, float*, const float*, int64_t, int64_t) const;
template void LogSoftmaxBackwardKernel::operator()(KernelArch, float*, const float*, const float*, int64_t,
                                                   int64_t) const;

}  // namespace ag
