// loss.hpp: losses as functions and as modules (torch.nn.CrossEntropyLoss, MSELoss, mse_loss).
//
//   cross_entropy: logits [N, C], class targets [N] -> see ops/cross_entropy.hpp (class weights,
//                  ignore_index, label_smoothing, reduction); the module holds the options and
//                  names the class weights as a buffer "weight", as PyTorch does
//   mse_loss:      input, target: the same shape
//                  ℓ_i = (input_i - target_i)²,  Mean: Σ ℓ_i / n,  Sum: Σ ℓ_i,  None: ℓ
//                  d input = 2 (input - target) · dℓ,  d target = -d input   (from sub, mul, reduce)
#pragma once

#include "nn/module.hpp"
#include "ops/cross_entropy.hpp"

namespace ag {

/// Mean (or summed, or per-element) squared error between tensors of one shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

/// cross_entropy(logits, targets, options) as a module.
class CrossEntropyLoss : public Module {
public:
    /// The options of every call; options.weight, if given, is shared, not copied.
    explicit CrossEntropyLoss(CrossEntropyOptions options = {});

    /// logits [N, C], targets [N] -> scalar, or [N] with Reduction::None.
    Tensor forward(const Tensor& logits, const Tensor& targets);
    /// Same as forward.
    Tensor operator()(const Tensor& logits, const Tensor& targets) { return forward(logits, targets); }
    /// The class weights, when given, as buffer "weight".
    void visit(Visitor& v) override;

    /// The options every call uses.
    const CrossEntropyOptions& options() const { return options_; }

private:
    CrossEntropyOptions options_;
};

/// mse_loss(input, target, reduction) as a module.
class MSELoss : public Module {
public:
    /// Mean over all elements by default.
    explicit MSELoss(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}

    /// input, target of one shape -> scalar, or that shape with Reduction::None.
    Tensor forward(const Tensor& input, const Tensor& target);
    /// Same as forward.
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
    /// No parameters, no buffers.
    void visit(Visitor&) override {}

private:
    Reduction reduction_;
};

}  // namespace ag
