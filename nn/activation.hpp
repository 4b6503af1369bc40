// activation.hpp: elementwise nonlinearities as modules, for Sequential (torch.nn.ReLU, GELU).
//
//   ReLU:  out = max(x, 0)                    dx = dout [x > 0]
//   GELU:  out = x Φ(x)  (exact, erf-based)   or the tanh approximation; see ops/unary.hpp
// No parameters, no buffers; any shape.
#pragma once

#include "nn/module.hpp"
#include "ops/unary.hpp"

namespace ag {

/// max(x, 0) elementwise.
class ReLU : public UnaryModule {
public:
    /// x -> max(x, 0), same shape.
    Tensor forward(const Tensor& x) override;
    /// No parameters, no buffers.
    void visit(Visitor&) override {}
};

/// x Φ(x) elementwise, exact or tanh-approximated (PyTorch's approximate='none' | 'tanh').
class GELU : public UnaryModule {
public:
    /// The exact form by default, as PyTorch.
    explicit GELU(GeluApproximation approximate = GeluApproximation::None) : approximate_(approximate) {}

    /// x -> gelu(x), same shape.
    Tensor forward(const Tensor& x) override;
    /// No parameters, no buffers.
    void visit(Visitor&) override {}

    /// Which formula.
    GeluApproximation approximate() const { return approximate_; }

private:
    GeluApproximation approximate_;
};

}  // namespace ag
