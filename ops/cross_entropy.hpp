// cross_entropy.hpp: cross-entropy from logits, fused with log-softmax (as torch.nn.functional).
//
//   logits z: [N, C], targets t: [N] class indices (integral floats)
//   ℓ_n = -(1 - ε) w_{t_n} log p_{n, t_n} - (ε / C) Σ_c w_c log p_{n, c}     p = softmax(z_n)
//   mean reduction divides Σ_n ℓ_n by Σ_n w_{t_n} over non-ignored rows (PyTorch's rule)
//   dz_n = (softmax(z_n) * Σ_c q_c - q) * scale,  q_c = the weights multiplying log p_{n,c} above
// Rows whose target equals ignore_index contribute nothing and get zero gradient.
#pragma once

#include "core/tensor.hpp"

#include <cstdint>

namespace ag {

/// How a loss over many rows becomes the op's output.
enum class Reduction { Mean, Sum, None };

struct CrossEntropyOptions {
    Reduction reduction = Reduction::Mean;
    int64_t ignore_index = -100;  ///< rows with this target are skipped
    float label_smoothing = 0.0f; ///< ε in [0, 1]
    Tensor weight;                ///< optional per-class weights [C]
};

/// Cross-entropy between logits [N, C] and integral class targets [N]. Output: scalar, or [N]
/// with Reduction::None.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options = {});

}  // namespace ag
