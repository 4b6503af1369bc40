// adam.hpp: Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW (single-tensor path).
//
// For each parameter p with gradient g, at step t = 1, 2, ... (counted per parameter):
//
//   Adam:   g = g + wd * p                 (L2 penalty folded into the gradient)
//   AdamW:  p = p * (1 - lr * wd)          (decoupled weight decay, before the update)
//   m = beta1 * m + (1 - beta1) * g        (first moment, exp_avg)
//   v = beta2 * v + (1 - beta2) * g * g    (second moment, exp_avg_sq)
//   v_max = max(v_max, v)                  (amsgrad only; then v_max replaces v below)
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// NOTE: eps is added after the bias correction of sqrt(v), as PyTorch does; adding it to the
// uncorrected sqrt(v) (as the paper's pseudo-code reads) changes the first steps noticeably.
#pragma once

#include "optim/optimizer.hpp"

#include <cstdint>

namespace ag {

/// Options of one Adam or AdamW group.
/// NOTE: torch.optim.AdamW defaults weight_decay to 1e-2; here it is 0 for both: pass it explicitly.
struct AdamOptions {
    /// learning rate
    double lr = 1e-3;
    /// decay rate of the first moment m
    double beta1 = 0.9;
    /// decay rate of the second moment v
    double beta2 = 0.999;
    /// added to the bias-corrected sqrt(v) in the denominator
    double eps = 1e-8;
    /// L2 penalty (Adam) or decoupled decay rate (AdamW); 0 turns it off
    double weight_decay = 0.0;
    /// divide by the running maximum of v rather than v
    bool amsgrad = false;
};

/// The scalars of one Adam/AdamW update of one parameter at one step.
/// NOTE: doubles, like the Python numbers PyTorch computes them in: the kernel derives 1 - beta,
/// lr / bias_correction1 ... in double and rounds each to float once. Computing 1 - beta2 from a
/// float beta2 instead would be off by 1.3e-5 relative (0.999f is 0.99900001).
struct AdamStep {
    /// learning rate for this step
    double lr;
    /// decay rate of m
    double beta1;
    /// decay rate of v
    double beta2;
    /// added to the bias-corrected sqrt(v)
    double eps;
    /// L2 penalty (Adam) or decoupled decay rate (AdamW)
    double weight_decay;
    double bias_correction1;  ///< 1 - beta1^t
    double bias_correction2;  ///< 1 - beta2^t
    bool decoupled;           ///< AdamW (p *= 1 - lr*wd) rather than Adam (g += wd*p)
};

/// The update of one parameter in one pass over n floats of param, both moments, the amsgrad
/// maximum (null without amsgrad) and grad. The scalar reference for the SIMD kernel.
void adam_update_reference(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq_or_null,
                           const float* grad, int64_t n, AdamStep step);

/// The same update with the SIMD kernel of the active level (optim/adam_kernel.cpp), on threads
/// over chunks of the n floats; what Adam::step runs.
void adam_update(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq_or_null, const float* grad,
                 int64_t n, AdamStep step);

/// Adam with L2 weight decay (see the file header).
class Adam : public Optimizer {
public:
    /// One group holding `params`.
    Adam(std::vector<Tensor> params, AdamOptions options);
    /// Several groups, each with its own options.
    explicit Adam(std::vector<ParamGroup<AdamOptions>> groups);

    void step() override;
    StateDict state_dict() const override;
    void load_state_dict(const StateDict& state) override;

    /// Group `group` (its options may differ from the others').
    const ParamGroup<AdamOptions>& group(int group) const;

protected:
    /// For AdamW: the same optimizer with decoupled weight decay.
    Adam(std::string name, bool decoupled, std::vector<ParamGroup<AdamOptions>> groups);

private:
    int group_count() const override { return static_cast<int>(groups_.size()); }
    const std::vector<Tensor>& group_params(int g) const override { return groups_[g].params; }
    double group_lr(int g) const override { return groups_[g].options.lr; }
    void set_group_lr(int g, double lr) override { groups_[g].options.lr = lr; }

    /// What Adam keeps per parameter; created at the parameter's first step.
    struct ParamState {
        int64_t step = 0;       ///< updates applied so far (t)
        Tensor exp_avg;         ///< m
        Tensor exp_avg_sq;      ///< v
        Tensor max_exp_avg_sq;  ///< v_max (amsgrad only)
    };

    std::vector<ParamGroup<AdamOptions>> groups_;
    std::vector<ParamState> state_;  ///< per parameter index
    bool decoupled_;
};

/// AdamW: Adam with decoupled weight decay p -= lr * wd * p (Loshchilov & Hutter).
class AdamW : public Adam {
public:
    /// One group holding `params`.
    AdamW(std::vector<Tensor> params, AdamOptions options);
    /// Several groups, each with its own options.
    explicit AdamW(std::vector<ParamGroup<AdamOptions>> groups);
};

}  // namespace ag
