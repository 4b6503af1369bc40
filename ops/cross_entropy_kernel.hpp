// cross_entropy_kernel.hpp: the SIMD cross-entropy kernels, one copy per instruction set
// (ops/cross_entropy_kernel.cpp). Same contracts as the references in cross_entropy.hpp, which
// run at the scalar level: N rows of C class logits, optional class weights, label smoothing and
// ignore_index.
#pragma once

#include <cstdint>

namespace ag {

/// Per-row losses and log-sum-exps (cross_entropy_forward_reference's contract).
struct CrossEntropyForwardKernel {
    template <class Arch>
    void operator()(Arch, float* loss, float* log_sum_exp, const float* logits, const float* targets,
                    const float* weight, float label_smoothing, int64_t ignore_index, int64_t rows,
                    int64_t cols) const;
};
/// dlogits from the saved log-sum-exps (cross_entropy_backward_reference's contract).
struct CrossEntropyBackwardKernel {
    template <class Arch>
    void operator()(Arch, float* dlogits, const float* logits, const float* log_sum_exp, const float* targets,
                    const float* weight, const float* dloss, float label_smoothing, int64_t ignore_index,
                    int64_t rows, int64_t cols) const;
};

}  // namespace ag
