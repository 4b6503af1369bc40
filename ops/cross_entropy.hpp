// cross_entropy.hpp: cross-entropy from logits, fused with log-softmax (as torch.nn.functional).
//
//   logits z: [N, C], targets t: [N] class indices (integral floats)
//   ℓ_n = -(1 - ε) w_{t_n} log p_{n, t_n} - (ε / C) Σ_c w_c log p_{n, c}     p = softmax(z_n)
//   mean reduction divides Σ_n ℓ_n by Σ_n w_{t_n} over non-ignored rows (PyTorch's rule)
//   dz_n = (softmax(z_n) * Σ_c q_c - q) * scale,  q_c = the weights multiplying log p_{n,c} above
// Rows whose target equals ignore_index contribute nothing and get zero gradient.
// Without weights, w = 1: mean divides by the number of non-ignored rows. When that denominator is
// 0 (every row ignored) the mean is 0/0 = NaN, as in PyTorch, and the gradient is zero.
// Logits [..., C] with targets [...] are read as N = (product of ...) rows. NOTE: classes are on the
// LAST axis; for 3 or more dimensions PyTorch puts them on dim 1 instead.
#pragma once

#include "core/tensor.hpp"

#include <cstdint>

namespace ag {

/// How a loss over many rows becomes the op's output.
enum class Reduction { Mean, Sum, None };

/// cross_entropy's options, as torch.nn.functional.cross_entropy's keyword arguments.
struct CrossEntropyOptions {
    Reduction reduction = Reduction::Mean;  ///< mean over the rows not ignored (weighted), sum, or none
    int64_t ignore_index = -100;  ///< rows with this target are skipped
    float label_smoothing = 0.0f; ///< ε in [0, 1]
    Tensor weight;                ///< optional per-class weights [C] (constants: they get no gradient)
};

/// Cross-entropy between logits [N, C] and integral class targets [N]. Output: scalar, or [N]
/// (the targets' shape) with Reduction::None.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options = {});

// --- kernels: N rows of C classes -------------------------------------------------------------
// cross_entropy_forward / _backward run the SIMD kernel of the active level
// (ops/cross_entropy_kernel.cpp), or the reference at the scalar level (core/simd.hpp).

/// cross_entropy_forward_reference's contract, at the active SIMD level.
void cross_entropy_forward(float* loss, float* log_sum_exp, const float* logits, const float* targets,
                           const float* weight, float label_smoothing, int64_t ignore_index, int64_t rows,
                           int64_t cols);
/// cross_entropy_backward_reference's contract, at the active SIMD level.
void cross_entropy_backward(float* dlogits, const float* logits, const float* log_sum_exp, const float* targets,
                            const float* weight, const float* dloss, float label_smoothing, int64_t ignore_index,
                            int64_t rows, int64_t cols);


/// Per row n: loss[n] = ℓ_n (0 if ignored) and log_sum_exp[n] = log Σ_c e^z[n, c] (saved for the
/// backward; 0 if ignored). `weight` [C] may be null (all ones). Targets must be validated.
void cross_entropy_forward_reference(float* loss, float* log_sum_exp, const float* logits, const float* targets,
                                     const float* weight, float label_smoothing, int64_t ignore_index, int64_t rows,
                                     int64_t cols);
/// dlogits[n, :] = (p_n Σ_c q_c - q) * dloss[n], zero for ignored rows; dloss [N] is dL/dℓ_n.
void cross_entropy_backward_reference(float* dlogits, const float* logits, const float* log_sum_exp,
                                      const float* targets, const float* weight, const float* dloss,
                                      float label_smoothing, int64_t ignore_index, int64_t rows, int64_t cols);

}  // namespace ag
