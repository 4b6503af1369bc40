// layer_norm.hpp: layer normalisation over the last axis, with optional affine weight and bias.
//
//   μ = mean(x),  σ² = mean((x - μ)²),  r = 1 / √(σ² + eps),  x̂ = (x - μ) r
//   out = x̂ * weight + bias                               x: [..., C], weight, bias: [C]
//   dx = r (g - mean(g) - x̂ mean(g x̂)),   g = dout * weight
//   dweight = Σ_rows dout x̂,   dbias = Σ_rows dout
#pragma once

#include "core/tensor.hpp"

namespace ag {

/// Normalises over the last axis; `weight` and `bias` ([C]) may each be undefined (no affine).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

}  // namespace ag
