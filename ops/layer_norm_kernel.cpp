// layer_norm_kernel.cpp: layer normalisation over rows, forward and backward, written once for
// any xsimd arch and compiled once per arch (ops/meson.build). Contracts: ops/layer_norm.hpp;
// the reference kernels in ops/layer_norm.cpp are what these must match.
//
// Shapes: x, out, dout, dx: R rows of C contiguous columns; weight, bias, dweight, dbias: [C];
// mean, rstd: [R]. W = floats per batch (16 / 8 / 4).
//   μ = Σ_i x_i / C,   σ² = Σ_i (x_i - μ)² / C,   r = 1 / √(σ² + eps)
//   x̂_i = (x_i - μ) r,   out_i = x̂_i w_i + b_i
//   g_i = dout_i w_i,   dx_i = r (g_i - mean(g) - x̂_i mean(g x̂))
//   dw_i += dout_i x̂_i,   db_i += dout_i          (summed over rows, in row order)
// Forward: three passes over a row in L1 (sum; squares around μ; normalise). Backward: two
// (the two means; dx and the row's share of dw, db). Each pass runs over whole batches, then the
// C mod W leftover floats with the same functor on float. A missing weight is 1, a missing bias 0.
//
// Where results differ from the reference (tolerance in tests/ops/test_layer_norm.cpp): the row
// sums add W partial sums in another order, and -ffp-contract=fast fuses a·b + c into one FMA.
// dweight and dbias accumulate the rows in the same order as the reference.
#include "ops/layer_norm_kernel.hpp"

#include "core/simd.hpp"

#include <cmath>

namespace ag {

namespace {

template <class Arch>
using Batch = xsimd::batch<float, Arch>;

// x̂ = (x - μ) r, for a batch or a float
struct Normalise {
    float mu, rs;
    template <class T>
    T operator()(T x) const {
        return (x - mu) * rs;
    }
};

// dx = r (g - mean(g) - x̂ mean(g x̂)), for a batch or a float
struct InputGrad {
    float rs, mean_g, mean_g_xhat;
    template <class T>
    T operator()(T g, T xhat) const {
        return rs * (g - mean_g - xhat * mean_g_xhat);
    }
};

// weight[c .. c+W) as a batch, or ones without a weight (the same for a bias, with zeros)
template <class Arch>
Batch<Arch> load_or(const float* p, int64_t c, float missing) {
    return p ? Batch<Arch>::load_unaligned(p + c) : Batch<Arch>(missing);
}
float value_or(const float* p, int64_t c, float missing) { return p ? p[c] : missing; }

template <class Arch>
void forward_row(float* y, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
                 float eps, int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    const float inv_cols = 1.0f / static_cast<float>(cols);
    // mean
    B acc(0.0f);
    int64_t c = 0;
    for (; c + W <= cols; c += W) acc += B::load_unaligned(x + c);
    float sum = xsimd::hadd(acc);
    for (; c < cols; ++c) sum += x[c];
    const float mu = sum * inv_cols;
    // variance, around the mean (two passes: see the NOTE in layer_norm.cpp)
    acc = B(0.0f);
    for (c = 0; c + W <= cols; c += W) {
        const B d = B::load_unaligned(x + c) - mu;
        acc += d * d;
    }
    float squares = xsimd::hadd(acc);
    for (; c < cols; ++c) squares += (x[c] - mu) * (x[c] - mu);
    const float rs = 1.0f / std::sqrt(squares * inv_cols + eps);
    // normalise and apply the affine map
    const Normalise xhat{mu, rs};
    for (c = 0; c + W <= cols; c += W) {
        const B out = xhat(B::load_unaligned(x + c)) * load_or<Arch>(weight, c, 1.0f) + load_or<Arch>(bias, c, 0.0f);
        out.store_unaligned(y + c);
    }
    for (; c < cols; ++c) y[c] = xhat(x[c]) * value_or(weight, c, 1.0f) + value_or(bias, c, 0.0f);
    *mean = mu;
    *rstd = rs;
}

template <class Arch>
void backward_row(float* dx, float* dweight, float* dbias, const float* x, float mu, float rs, const float* weight,
                  const float* dy, int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    const float inv_cols = 1.0f / static_cast<float>(cols);
    const Normalise normalise{mu, rs};
    // the two row means of the gradient reaching x̂: mean(g) and mean(g x̂), g = dout w
    B acc_g(0.0f), acc_g_xhat(0.0f);
    int64_t c = 0;
    for (; c + W <= cols; c += W) {
        const B g = B::load_unaligned(dy + c) * load_or<Arch>(weight, c, 1.0f);
        acc_g += g;
        acc_g_xhat += g * normalise(B::load_unaligned(x + c));
    }
    float sum_g = xsimd::hadd(acc_g), sum_g_xhat = xsimd::hadd(acc_g_xhat);
    for (; c < cols; ++c) {
        const float g = dy[c] * value_or(weight, c, 1.0f);
        sum_g += g;
        sum_g_xhat += g * normalise(x[c]);
    }
    const InputGrad input_grad{rs, sum_g * inv_cols, sum_g_xhat * inv_cols};
    // dx, and this row's share of dweight and dbias
    for (c = 0; c + W <= cols; c += W) {
        const B dyc = B::load_unaligned(dy + c), xhat = normalise(B::load_unaligned(x + c));
        input_grad(dyc * load_or<Arch>(weight, c, 1.0f), xhat).store_unaligned(dx + c);
        if (dweight) (B::load_unaligned(dweight + c) + dyc * xhat).store_unaligned(dweight + c);
        if (dbias) (B::load_unaligned(dbias + c) + dyc).store_unaligned(dbias + c);
    }
    for (; c < cols; ++c) {
        const float xhat = normalise(x[c]);
        dx[c] = input_grad(dy[c] * value_or(weight, c, 1.0f), xhat);
        if (dweight) dweight[c] += dy[c] * xhat;
        if (dbias) dbias[c] += dy[c];
    }
}

}  // namespace

template <class Arch>
void LayerNormForwardKernel::operator()(Arch, float* out, float* mean, float* rstd, const float* x,
                                        const float* weight, const float* bias, float eps, int64_t rows,
                                        int64_t cols) const {
    for (int64_t r = 0; r < rows; ++r)
        forward_row<Arch>(out + r * cols, mean + r, rstd + r, x + r * cols, weight, bias, eps, cols);
}

template <class Arch>
void LayerNormBackwardKernel::operator()(Arch, float* dx, float* dweight, float* dbias, const float* x,
                                         const float* mean, const float* rstd, const float* weight,
                                         const float* dout, int64_t rows, int64_t cols) const {
    for (int64_t r = 0; r < rows; ++r)
        backward_row<Arch>(dx + r * cols, dweight, dbias, x + r * cols, mean[r], rstd[r], weight, dout + r * cols,
                           cols);
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void LayerNormForwardKernel::operator()(KernelArch, float*, float*, float*, const float*, const float*,
                                                 const float*, float, int64_t, int64_t) const;
template void LayerNormBackwardKernel::operator()(KernelArch, float*, float*, float*, const float*, const float*,
                                                  const float*, const float*, const float*, int64_t,
                                                  int64_t) const;

}  // namespace ag
