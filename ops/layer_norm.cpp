// layer_norm.cpp: layer normalisation over the last axis, forward and backward each one pass over
// the rows (a row is read a few times while it sits in cache).
//
// Shapes: x, out, dout, dx: [..., C], read as R rows of C contiguous columns; weight, bias,
// dweight, dbias: [C]; mean, rstd (saved for the backward): [...], one per row.
// Dimension letters: R rows (the product of every dimension but the last), C columns (last axis).
//
//   μ = Σ_i x_i / C,   σ² = Σ_i (x_i - μ)² / C   (biased, as PyTorch),   r = 1 / √(σ² + eps)
//   x̂_i = (x_i - μ) r,   out_i = x̂_i w_i + b_i
// Backward, with g_i = dout_i w_i (the gradient reaching x̂):
//   dx_i = r (g_i - mean_j(g_j) - x̂_i mean_j(g_j x̂_j))
//   dw_i = Σ_rows dout_i x̂_i,   db_i = Σ_rows dout_i
// dx follows from x̂ = (x - μ) r with both μ and r depending on every x_j: ∂μ/∂x_j = 1/C and
// ∂r/∂x_j = -r³ (x_j - μ) / C, which give the two mean terms.
//
// NOTE: the variance is Σ (x - μ)² after μ is known (two passes over the row), not
// E[x²] - μ², which cancels catastrophically when |μ| is large compared with σ.
#include "ops/layer_norm.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/layer_norm_kernel.hpp"

#include <cmath>
#include <vector>

namespace ag {

// --- reference kernels ------------------------------------------------------------------------

void layer_norm_forward_reference(float* out, float* mean, float* rstd, const float* x, const float* weight,
                                  const float* bias, float eps, int64_t rows, int64_t cols) {
    const float inv_cols = 1.0f / static_cast<float>(cols);
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;  // [C]
        float* yr = out + r * cols;      // [C]
        // mean
        float sum = 0.0f;
        for (int64_t c = 0; c < cols; ++c) sum += xr[c];
        const float mu = sum * inv_cols;
        // variance, around the mean
        float squares = 0.0f;
        for (int64_t c = 0; c < cols; ++c) squares += (xr[c] - mu) * (xr[c] - mu);
        const float rs = 1.0f / std::sqrt(squares * inv_cols + eps);
        // normalise and apply the affine map
        for (int64_t c = 0; c < cols; ++c) {
            const float xhat = (xr[c] - mu) * rs;
            yr[c] = xhat * (weight ? weight[c] : 1.0f) + (bias ? bias[c] : 0.0f);
        }
        mean[r] = mu;
        rstd[r] = rs;
    }
}

void layer_norm_backward_reference(float* dx, float* dweight, float* dbias, const float* x, const float* mean,
                                   const float* rstd, const float* weight, const float* dout, int64_t rows,
                                   int64_t cols) {
    const float inv_cols = 1.0f / static_cast<float>(cols);
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;      // [C]
        const float* dyr = dout + r * cols;  // [C]
        float* dxr = dx + r * cols;          // [C]
        const float mu = mean[r], rs = rstd[r];
        // the two row means of the gradient reaching x̂: mean(g) and mean(g x̂)
        float sum_g = 0.0f, sum_g_xhat = 0.0f;
        for (int64_t c = 0; c < cols; ++c) {
            const float xhat = (xr[c] - mu) * rs;
            const float g = dyr[c] * (weight ? weight[c] : 1.0f);
            sum_g += g;
            sum_g_xhat += g * xhat;
        }
        const float mean_g = sum_g * inv_cols, mean_g_xhat = sum_g_xhat * inv_cols;
        // dx, and this row's share of dweight and dbias
        for (int64_t c = 0; c < cols; ++c) {
            const float xhat = (xr[c] - mu) * rs;
            const float g = dyr[c] * (weight ? weight[c] : 1.0f);
            dxr[c] = rs * (g - mean_g - xhat * mean_g_xhat);
            if (dweight) dweight[c] += dyr[c] * xhat;
            if (dbias) dbias[c] += dyr[c];
        }
    }
}

// --- the kernels at the active SIMD level ------------------------------------------------------
// Threads take chunks of rows (row_grain, core/parallel.hpp). The forward's rows are independent.
// The backward's dweight and dbias sum over every row: each chunk of rows adds into its own
// partial, and the partials are added in chunk order. The chunks depend only on the shape, so
// the results are bitwise the same for any thread count.

void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
                        float eps, int64_t rows, int64_t cols) {
    parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
        const int64_t o = r0 * cols;
        simd_dispatch(LayerNormForwardKernel{}, layer_norm_forward_reference, out + o, mean + r0, rstd + r0, x + o,
                      weight, bias, eps, r1 - r0, cols);
    });
}

void layer_norm_backward(float* dx, float* dweight, float* dbias, const float* x, const float* mean, const float* rstd,
                         const float* weight, const float* dout, int64_t rows, int64_t cols) {
    // rows [r0, r1), adding their share of dweight and dbias into dw and db
    auto backward_rows = [&](int64_t r0, int64_t r1, float* dw, float* db) {
        const int64_t o = r0 * cols;
        simd_dispatch(LayerNormBackwardKernel{}, layer_norm_backward_reference, dx + o, dw, db, x + o, mean + r0,
                      rstd + r0, weight, dout + o, r1 - r0, cols);
    };
    const int64_t grain = row_grain(cols);
    if (rows <= grain) return backward_rows(0, rows, dweight, dbias);  // one chunk: add straight in
    // one zeroed partial (dweight, dbias) per chunk, then added in chunk order
    std::vector<float> partials(static_cast<size_t>(num_chunks(0, rows, grain) * 2 * cols), 0.0f);
    parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
        float* partial = partials.data() + r0 / grain * 2 * cols;
        backward_rows(r0, r1, dweight ? partial : nullptr, dbias ? partial + cols : nullptr);
    });
    for (const float* partial = partials.data(); partial < partials.data() + partials.size(); partial += 2 * cols)
        for (int64_t c = 0; c < cols; ++c) {
            if (dweight) dweight[c] += partial[c];
            if (dbias) dbias[c] += partial[cols + c];
        }
}

// --- the op -----------------------------------------------------------------------------------

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    const char* op = "layer_norm";
    check(x.defined(), op, "the input is an undefined tensor");
    check(x.ndim() >= 1 && x.shape()[-1] > 0, op, "needs a non-empty last dimension to normalise over, got shape {}",
          x.shape());
    const int64_t cols = x.shape()[-1];
    check(!weight.defined() || weight.shape() == Shape{cols}, op,
          "weight must have shape ({},), the last dimension of x {}, got {}", cols, x.shape(),
          weight.defined() ? weight.shape() : Shape{});
    check(!bias.defined() || bias.shape() == Shape{cols}, op,
          "bias must have shape ({},), the last dimension of x {}, got {}", cols, x.shape(),
          bias.defined() ? bias.shape() : Shape{});
    check(eps >= 0.0f, op, "eps must be >= 0, got {}", eps);

    Shape rows_shape;  // x's shape without the normalised dimension: one mean and rstd per row
    for (int d = 0; d + 1 < x.ndim(); ++d) rows_shape.push_back(x.shape()[d]);
    const int64_t rows = rows_shape.numel();
    Tensor out = empty(x.shape()), mean = empty(rows_shape), rstd = empty(rows_shape);
    layer_norm_forward(out.data(), mean.data(), rstd.data(), x.data(), weight.defined() ? weight.data() : nullptr,
                       bias.defined() ? bias.data() : nullptr, eps, rows, cols);

    const bool has_bias = bias.defined();
    record(out, op, {x, weight, bias},
           [x, weight, mean, rstd, has_bias, rows, cols](const Tensor&, const Tensor& dout) -> Grads {
               Tensor dx = empty(x.shape());
               Tensor dweight = weight.defined() ? zeros(Shape{cols}) : Tensor();
               Tensor dbias = has_bias ? zeros(Shape{cols}) : Tensor();
               layer_norm_backward(dx.data(), dweight.defined() ? dweight.data() : nullptr,
                                   has_bias ? dbias.data() : nullptr, x.data(), mean.data(), rstd.data(),
                                   weight.defined() ? weight.data() : nullptr, dout.data(), rows, cols);
               return {dx, dweight, dbias};
           });
    return out;
}

}  // namespace ag
