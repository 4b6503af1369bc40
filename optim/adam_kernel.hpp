// adam_kernel.hpp: the fused SIMD Adam/AdamW update, one copy per instruction set
// (optim/adam_kernel.cpp). Same contract as adam_update_reference (optim/adam.hpp), which runs at
// the scalar level: one pass over n floats of param, grad, exp_avg, exp_avg_sq (and
// max_exp_avg_sq with amsgrad), every scalar already rounded to float as below.
#pragma once

#include <cstdint>

namespace ag {

/// The float scalars of one update, each computed in double from AdamStep and rounded once
/// (adam_scalars in optim/adam.cpp), shared by the reference and the SIMD kernel.
struct AdamScalars {
    /// decay rates of m and v
    float beta1, beta2;
    /// 1 - beta1 and 1 - beta2, computed in double before the rounding
    float one_minus_beta1, one_minus_beta2;
    float weight_decay;           ///< Adam's L2 term: g += weight_decay * p
    float decay;                  ///< AdamW's shrink: p *= 1 - lr * weight_decay
    float step_size;              ///< lr / (1 - beta1^t)
    float bias_correction2_sqrt;  ///< sqrt(1 - beta2^t)
    /// added to sqrt(v) / bias_correction2_sqrt
    float eps;
    bool decoupled;               ///< AdamW rather than Adam
};

/// param, exp_avg, exp_avg_sq (and max_exp_avg_sq unless null) updated in place for i < n.
struct AdamKernel {
    template <class Arch>
    void operator()(Arch, float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq_or_null,
                    const float* grad, int64_t n, AdamScalars s) const;
};

}  // namespace ag
