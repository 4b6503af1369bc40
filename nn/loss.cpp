// loss.cpp: mse_loss composed from ops, and the loss modules (formulas in loss.hpp).
#include "nn/loss.hpp"

#include "core/error.hpp"
#include "ops/binary.hpp"
#include "ops/reduce.hpp"

namespace ag {

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    check(input.defined() && target.defined(), "mse_loss", "input or target is an undefined tensor");
    // NOTE: PyTorch broadcasts different shapes with a warning; a [N] target against [N, 1]
    // predictions then gives an [N, N] loss, almost always a bug, so here it is an error
    check(input.shape() == target.shape(), "mse_loss", "input and target shapes differ: {} and {}", input.shape(),
          target.shape());
    Tensor diff = input - target;
    Tensor squared = diff * diff;
    switch (reduction) {
        case Reduction::Mean: return mean(squared);
        case Reduction::Sum: return sum(squared);
        case Reduction::None: return squared;
    }
    fail("mse_loss", "unknown reduction");
}

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyOptions options) : options_(std::move(options)) {}

Tensor CrossEntropyLoss::forward(const Tensor& logits, const Tensor& targets) {
    return cross_entropy(logits, targets, options_);
}

void CrossEntropyLoss::visit(Visitor& v) {
    if (options_.weight.defined()) v.buffer("weight", options_.weight);
}

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) { return mse_loss(input, target, reduction_); }

}  // namespace ag
