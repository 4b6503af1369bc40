// linear.hpp: the fully connected layer, y = x Wᵀ + b (torch.nn.Linear).
//
//   x: [..., in]    weight W: [out, in]    bias b: [out]    y: [..., out]
//   dx = dy W       dW = Σ_rows dyᵀ x      db = Σ_rows dy     (from the linear op, ops/linear.hpp)
//
// Initialisation (PyTorch's): W ~ U(-1/√in, 1/√in) (kaiming_uniform_ with a = √5 gives exactly
// this bound), b ~ U(-1/√in, 1/√in); drawn from the generator passed in, weight first.
#pragma once

#include "nn/module.hpp"

#include "core/random.hpp"

namespace ag {

/// y = x Wᵀ + b over the last axis.
class Linear : public UnaryModule {
public:
    /// A layer from `in_features` to `out_features`, initialised from `gen`; bias optional.
    Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true);

    /// x [..., in] -> [..., out].
    Tensor forward(const Tensor& x) override;
    /// Names "weight", and "bias" when there is one.
    void visit(Visitor& v) override;

    /// W: [out, in].
    const Tensor& weight() const { return weight_; }
    /// b: [out], or undefined when built without bias.
    const Tensor& bias() const { return bias_; }
    /// in: the size of the input's last axis.
    int64_t in_features() const { return weight_.size(1); }
    /// out: the size of the output's last axis.
    int64_t out_features() const { return weight_.size(0); }

private:
    Tensor weight_;
    Tensor bias_;
};

}  // namespace ag
