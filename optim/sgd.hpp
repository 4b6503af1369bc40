// sgd.hpp: stochastic gradient descent with momentum, as torch.optim.SGD.
//
// For each parameter p with gradient g, learning rate lr, momentum mu, dampening d, weight decay wd:
//
//   g   = g + wd * p                            (L2 penalty, if wd != 0)
//   buf = g                                     (first step: the buffer starts as the gradient)
//   buf = mu * buf + (1 - d) * g                (later steps)
//   g   = g + mu * buf   (nesterov)   or   g = buf   (plain momentum; both only if mu != 0)
//   p   = p - lr * g
//
// NOTE: the first step copies g into the buffer without dampening; this is PyTorch's rule, and
// why a buffer initialised to zero gives different numbers.
#pragma once

#include "optim/optimizer.hpp"

#include <cstdint>

namespace ag {

/// Options of one SGD group (torch.optim.SGD's arguments).
struct SGDOptions {
    /// learning rate
    double lr = 1e-3;
    /// momentum factor mu; 0 turns momentum (and its buffer) off
    double momentum = 0.0;
    /// dampening d: later steps blend in (1 - d) * g
    double dampening = 0.0;
    /// L2 penalty: g += weight_decay * p
    double weight_decay = 0.0;
    /// Nesterov momentum g + mu * buf (needs momentum > 0 and dampening 0)
    bool nesterov = false;
};

/// The scalars of one SGD update of one parameter; doubles, rounded to float once in the kernel
/// after computing 1 - dampening in double (as PyTorch does with its Python numbers).
struct SGDStep {
    /// learning rate
    double lr;
    /// momentum factor mu; 0: no buffer
    double momentum;
    /// dampening d
    double dampening;
    /// L2 penalty
    double weight_decay;
    /// Nesterov momentum rather than plain
    bool nesterov;
    bool first_step;  ///< the momentum buffer is set to the gradient, not blended
};

/// The update of one parameter in one pass: param, momentum_buffer (null if momentum is 0) and
/// grad hold n floats. The scalar reference for the SIMD kernel.
void sgd_update_reference(float* param, float* momentum_buffer_or_null, const float* grad, int64_t n, SGDStep step);

/// Stochastic gradient descent, PyTorch semantics (see the file header).
class SGD : public Optimizer {
public:
    /// One group holding `params`.
    SGD(std::vector<Tensor> params, SGDOptions options);
    /// Several groups, each with its own options.
    explicit SGD(std::vector<ParamGroup<SGDOptions>> groups);

    void step() override;
    StateDict state_dict() const override;
    void load_state_dict(const StateDict& state) override;

    /// Group `group` (its options may differ from the others').
    const ParamGroup<SGDOptions>& group(int group) const;

private:
    int group_count() const override { return static_cast<int>(groups_.size()); }
    const std::vector<Tensor>& group_params(int g) const override { return groups_[g].params; }
    double group_lr(int g) const override { return groups_[g].options.lr; }
    void set_group_lr(int g, double lr) override { groups_[g].options.lr = lr; }

    std::vector<ParamGroup<SGDOptions>> groups_;
    std::vector<Tensor> momentum_buffers_;  ///< per parameter index; undefined until its first step
};

}  // namespace ag
