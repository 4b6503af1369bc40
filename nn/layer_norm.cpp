// layer_norm.cpp: the module around ops/layer_norm (formulas in layer_norm.hpp).
#include "nn/layer_norm.hpp"

#include "core/error.hpp"
#include "ops/layer_norm.hpp"

namespace ag {

LayerNorm::LayerNorm(int64_t normalized_shape, float eps, bool elementwise_affine)
    : normalized_shape_(normalized_shape), eps_(eps) {
    check(normalized_shape > 0, "LayerNorm", "normalized_shape must be positive, got {}", normalized_shape);
    check(eps >= 0.0f, "LayerNorm", "eps must not be negative, got {}", eps);
    if (elementwise_affine) {
        weight_ = ones({normalized_shape});
        bias_ = zeros({normalized_shape});
        weight_.requires_grad_();
        bias_.requires_grad_();
    }
}

Tensor LayerNorm::forward(const Tensor& x) {
    check(x.defined(), "LayerNorm", "input is an undefined tensor");
    check(x.ndim() >= 1 && x.size(-1) == normalized_shape_, "LayerNorm", "expected input of shape (..., {}), got {}",
          normalized_shape_, x.shape());
    return layer_norm(x, weight_, bias_, eps_);
}

void LayerNorm::visit(Visitor& v) {
    if (!weight_.defined()) return;  // no elementwise affine: nothing to name
    v.parameter("weight", weight_);
    v.parameter("bias", bias_);
}

}  // namespace ag
