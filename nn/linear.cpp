// linear.cpp: y = x Wᵀ + b through ops/linear (formulas in linear.hpp).
//
// The gradients come from the op; this file only initialises and validates.
#include "nn/linear.hpp"

#include "core/error.hpp"
#include "ops/linear.hpp"

#include <cmath>

namespace ag {

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias) {
    check(in_features > 0 && out_features > 0, "Linear", "in_features and out_features must be positive, got {} and {}",
          in_features, out_features);
    // U(-1/√in, 1/√in) for both: kaiming_uniform_(a=√5) has bound √(6 / ((1 + a²) in)) = 1/√in
    const float bound = 1.0f / std::sqrt(static_cast<float>(in_features));
    weight_ = uniform({out_features, in_features}, -bound, bound, gen);
    weight_.requires_grad_();
    if (bias) {
        bias_ = uniform({out_features}, -bound, bound, gen);
        bias_.requires_grad_();
    }
}

Tensor Linear::forward(const Tensor& x) {
    check(x.defined(), "Linear", "input is an undefined tensor");
    check(x.ndim() >= 1 && x.size(-1) == in_features(), "Linear",
          "expected input of shape (..., {}) (in_features), got {}", in_features(), x.shape());
    return linear(x, weight_, bias_);
}

void Linear::visit(Visitor& v) {
    v.parameter("weight", weight_);
    if (bias_.defined()) v.parameter("bias", bias_);
}

}  // namespace ag
