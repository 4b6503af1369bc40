// layer_norm.hpp: layer normalisation over the last axis, with optional affine weight and bias.
//
//   μ = mean(x),  σ² = mean((x - μ)²),  r = 1 / √(σ² + eps),  x̂ = (x - μ) r
//   out = x̂ * weight + bias                               x: [..., C], weight, bias: [C]
//   dx = r (g - mean(g) - x̂ mean(g x̂)),   g = dout * weight
//   dweight = Σ_rows dout x̂,   dbias = Σ_rows dout
// The variance is the biased one (divided by C), as PyTorch's layer_norm.
#pragma once

#include "core/tensor.hpp"

#include <cstdint>

namespace ag {

/// Normalises over the last axis; `weight` and `bias` ([C]) may each be undefined (no affine).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// --- kernels: R rows of C contiguous columns --------------------------------------------------
// layer_norm_forward / _backward run the SIMD kernel of the active level
// (ops/layer_norm_kernel.cpp), or the reference at the scalar level (core/simd.hpp).

/// layer_norm_forward_reference's contract, at the active SIMD level.
void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
                        float eps, int64_t rows, int64_t cols);
/// layer_norm_backward_reference's contract (adds into dweight, dbias), at the active SIMD level.
void layer_norm_backward(float* dx, float* dweight, float* dbias, const float* x, const float* mean, const float* rstd,
                         const float* weight, const float* dout, int64_t rows, int64_t cols);


/// out[r, :] = x̂ * weight + bias, saving mean[r] = μ and rstd[r] = r. weight, bias may be null.
void layer_norm_forward_reference(float* out, float* mean, float* rstd, const float* x, const float* weight,
                                  const float* bias, float eps, int64_t rows, int64_t cols);
/// dx[r, :] from the saved mean and rstd; ADDS Σ_rows dout x̂ into dweight and Σ_rows dout into
/// dbias (zero them first; either may be null). weight may be null (all ones).
void layer_norm_backward_reference(float* dx, float* dweight, float* dbias, const float* x, const float* mean,
                                   const float* rstd, const float* weight, const float* dout, int64_t rows,
                                   int64_t cols);

}  // namespace ag
