// layer_norm.hpp: layer normalisation over the last axis (torch.nn.LayerNorm).
//
//   x: [..., C]    weight γ, bias β: [C]    out: [..., C]
//   μ = mean(x),  σ² = mean((x - μ)²)  (biased),  out = (x - μ) / √(σ² + eps) · γ + β
// Gradients: see ops/layer_norm.hpp.
//
// Initialisation (PyTorch's): γ = 1, β = 0. Without elementwise_affine there are no parameters.
// NOTE: PyTorch's normalized_shape may cover several trailing axes; here it is the last one only.
#pragma once

#include "nn/module.hpp"

namespace ag {

/// Normalises each vector along the last axis, then scales and shifts it.
class LayerNorm : public UnaryModule {
public:
    /// Normalises over a last axis of size `normalized_shape`.
    explicit LayerNorm(int64_t normalized_shape, float eps = 1e-5f, bool elementwise_affine = true);

    /// x [..., C] -> [..., C].
    Tensor forward(const Tensor& x) override;
    /// Names "weight" and "bias" (nothing without elementwise_affine).
    void visit(Visitor& v) override;

    /// γ: [C], or undefined without elementwise_affine.
    const Tensor& weight() const { return weight_; }
    /// β: [C], or undefined without elementwise_affine.
    const Tensor& bias() const { return bias_; }
    /// The constant added to the variance.
    float eps() const { return eps_; }

private:
    int64_t normalized_shape_;
    float eps_;
    Tensor weight_;
    Tensor bias_;
};

}  // namespace ag
