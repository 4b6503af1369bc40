// linear.cpp: y = x Wᵀ + b, composed from matmul, transpose and add (formulas in linear.hpp).
//
// The gradients come from those ops; this file only initialises, validates and composes.
#include "nn/linear.hpp"

#include "core/error.hpp"
#include "ops/binary.hpp"
#include "ops/matmul.hpp"
#include "ops/shape_ops.hpp"

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
    // NOTE: transpose copies W each call; a matmul with a transposed operand comes with performance work
    Tensor y = matmul(x, transpose(weight_, 0, 1));
    return bias_.defined() ? y + bias_ : y;
}

void Linear::visit(Visitor& v) {
    v.parameter("weight", weight_);
    if (bias_.defined()) v.parameter("bias", bias_);
}

}  // namespace ag
