// cross_entropy.cpp: cross-entropy from logits, with log-softmax fused into the loss.
//
// Shapes: logits z, dlogits: [N, C]; targets t, loss ℓ, log_sum_exp: [N]; weight w: [C].
// Dimension letters: N rows (samples; the product of every logits dimension but the last),
// C classes (last axis).
//
//   lse_n        = log Σ_c e^(z_nc) = m + log Σ_c e^(z_nc - m),  m = max_c z_nc
//   log p_nc     = z_nc - lse_n
//   nll_n        = -w_t log p_nt                               t = t_n, w = 1 without weights
//   smooth_n     = -Σ_c w_c log p_nc
//   ℓ_n          = (1 - ε) nll_n + (ε / C) smooth_n            0 for an ignored row
//   mean         = Σ_n ℓ_n / W,   W = Σ_{n not ignored} w_{t_n}   (0/0 = NaN when W = 0)
//   sum          = Σ_n ℓ_n;       none: the vector ℓ
// Backward: ℓ_n = -Σ_c q_c log p_nc with q_c = (1 - ε) w_t [c = t] + (ε / C) w_c, and
// ∂(-log p_nk)/∂z_nc = p_nc - [k = c], so
//   dz_nc = (p_nc Σ_k q_k - q_c) · dL/dℓ_n,    Σ_k q_k = (1 - ε) w_t + (ε / C) Σ_k w_k
// where dL/dℓ_n is dout_n (none), dout (sum) or dout / W (mean).
// Nothing is materialised but lse: no one-hot targets, no [N, C] log-probabilities, no graph of
// log_softmax; the backward recomputes p from z and lse.
//
// Follows torch.nn.functional.cross_entropy, label smoothing and weights included. NOTE: with
// ε = 0 the smoothing term is skipped, not multiplied by 0: a masked logit (-inf) makes it +inf,
// and 0 · inf would turn the loss NaN. A row whose logits are all -inf has no distribution: its
// loss is NaN (as PyTorch).
#include "ops/cross_entropy.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/cross_entropy_kernel.hpp"

#include <algorithm>
#include <cmath>

namespace ag {

namespace {

// Whether target value `t` (an integral float) is the ignore_index; compared in double, where
// every float and every index up to 2^53 is exact.
bool is_ignored(float t, int64_t ignore_index) {
    return static_cast<double>(t) == static_cast<double>(ignore_index);
}

// w_c, or 1 without weights.
float weight_of(const float* weight, int64_t c) { return weight ? weight[c] : 1.0f; }

}  // namespace

// --- reference kernels ------------------------------------------------------------------------

void cross_entropy_forward_reference(float* loss, float* log_sum_exp, const float* logits, const float* targets,
                                     const float* weight, float label_smoothing, int64_t ignore_index, int64_t rows,
                                     int64_t cols) {
    const float eps = label_smoothing;
    for (int64_t n = 0; n < rows; ++n) {
        const float* z = logits + n * cols;  // [C]
        if (is_ignored(targets[n], ignore_index)) {
            loss[n] = 0.0f;
            log_sum_exp[n] = 0.0f;
            continue;
        }
        const auto t = static_cast<int64_t>(targets[n]);
        // max
        float max = -INFINITY;
        for (int64_t c = 0; c < cols; ++c) max = std::max(max, z[c]);
        // exp and sum, then lse = log Σ_c e^z_c
        float sum = 0.0f;
        for (int64_t c = 0; c < cols; ++c) sum += std::exp(z[c] - max);
        const float lse = max + std::log(sum);
        // the loss: log p_c = z_c - lse
        const float nll = -weight_of(weight, t) * (z[t] - lse);
        float smooth = 0.0f;
        if (eps > 0.0f)
            for (int64_t c = 0; c < cols; ++c) smooth -= weight_of(weight, c) * (z[c] - lse);
        loss[n] = eps > 0.0f ? (1.0f - eps) * nll + eps / static_cast<float>(cols) * smooth : nll;
        log_sum_exp[n] = lse;
    }
}

void cross_entropy_backward_reference(float* dlogits, const float* logits, const float* log_sum_exp,
                                      const float* targets, const float* weight, const float* dloss,
                                      float label_smoothing, int64_t ignore_index, int64_t rows, int64_t cols) {
    // the smoothing part of q: q_c = ε/C w_c (+ (1 - ε) w_t at the target)
    const float smooth_scale = label_smoothing / static_cast<float>(cols);
    float weight_sum = 0.0f;  // Σ_c w_c
    for (int64_t c = 0; c < cols; ++c) weight_sum += weight_of(weight, c);
    for (int64_t n = 0; n < rows; ++n) {
        float* dz = dlogits + n * cols;      // [C]
        const float* z = logits + n * cols;  // [C]
        if (is_ignored(targets[n], ignore_index)) {
            std::fill(dz, dz + cols, 0.0f);
            continue;
        }
        const auto t = static_cast<int64_t>(targets[n]);
        const float target_q = (1.0f - label_smoothing) * weight_of(weight, t);
        const float q_sum = target_q + smooth_scale * weight_sum;
        const float lse = log_sum_exp[n], g = dloss[n];
        // dz_c = (p_c Σq - q_c) g, with p_c = e^(z_c - lse)
        for (int64_t c = 0; c < cols; ++c) {
            const float q = smooth_scale * weight_of(weight, c) + (c == t ? target_q : 0.0f);
            dz[c] = (std::exp(z[c] - lse) * q_sum - q) * g;
        }
    }
}

// --- the kernels at the active SIMD level ------------------------------------------------------
// Rows are independent: threads take chunks of rows (row_grain, core/parallel.hpp); results do
// not depend on the thread count.

void cross_entropy_forward(float* loss, float* log_sum_exp, const float* logits, const float* targets,
                           const float* weight, float label_smoothing, int64_t ignore_index, int64_t rows,
                           int64_t cols) {
    parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
        simd_dispatch(CrossEntropyForwardKernel{}, cross_entropy_forward_reference, loss + r0, log_sum_exp + r0,
                      logits + r0 * cols, targets + r0, weight, label_smoothing, ignore_index, r1 - r0, cols);
    });
}

void cross_entropy_backward(float* dlogits, const float* logits, const float* log_sum_exp, const float* targets,
                            const float* weight, const float* dloss, float label_smoothing, int64_t ignore_index,
                            int64_t rows, int64_t cols) {
    parallel_for(0, rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
        simd_dispatch(CrossEntropyBackwardKernel{}, cross_entropy_backward_reference, dlogits + r0 * cols,
                      logits + r0 * cols, log_sum_exp + r0, targets + r0, weight, dloss + r0, label_smoothing,
                      ignore_index, r1 - r0, cols);
    });
}

// --- the op -----------------------------------------------------------------------------------

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options) {
    const char* op = "cross_entropy";
    check(logits.defined() && targets.defined(), op, "logits or targets is an undefined tensor");
    check(logits.ndim() >= 1, op, "logits need a class dimension (the last), got shape {}", logits.shape());
    const int64_t cols = logits.shape()[-1];
    check(cols > 0, op, "logits have no classes: shape {}", logits.shape());
    Shape rows_shape;  // logits' shape without its class dimension: the targets' shape
    for (int d = 0; d + 1 < logits.ndim(); ++d) rows_shape.push_back(logits.shape()[d]);
    check(targets.shape() == rows_shape, op, "targets of shape {} do not match logits of shape {}: expected {}",
          targets.shape(), logits.shape(), rows_shape);
    const Tensor& weight = options.weight;
    if (weight.defined()) {
        check(weight.shape() == Shape{cols}, op, "weight must have shape ({},), one per class of logits {}, got {}",
              cols, logits.shape(), weight.shape());
        check(!weight.requires_grad(), op, "weight requires grad, but class weights are constants here");
    }
    const float eps = options.label_smoothing;
    check(eps >= 0.0f && eps <= 1.0f, op, "label_smoothing must be in [0, 1], got {}", eps);
    const int64_t rows = targets.numel(), ignore_index = options.ignore_index;
    const float* t = targets.data();
    for (int64_t n = 0; n < rows; ++n) {
        check(std::isfinite(t[n]) && t[n] == std::trunc(t[n]), op,
              "target {} at index {} is not an integer: targets are class indices", t[n], n);
        check(is_ignored(t[n], ignore_index) || (t[n] >= 0.0f && t[n] < static_cast<float>(cols)), op,
              "target {} at index {} is out of range: expected 0 <= target < {} (classes of logits {}) or "
              "ignore_index {}", t[n], n, cols, logits.shape(), ignore_index);
    }

    // the kernel: per-row losses and the log-sum-exp the backward needs
    const float* w = weight.defined() ? weight.data() : nullptr;
    Tensor losses = empty(rows_shape), log_sum_exp = empty(rows_shape);
    cross_entropy_forward(losses.data(), log_sum_exp.data(), logits.data(), t, w, eps, ignore_index, rows, cols);

    // the reduction; mean's denominator W is the total weight of the rows that count
    double total = 0.0, total_weight = 0.0;
    for (int64_t n = 0; n < rows; ++n) {
        total += losses.data()[n];
        if (!is_ignored(t[n], ignore_index)) total_weight += w ? w[static_cast<int64_t>(t[n])] : 1.0f;
    }
    const Reduction reduction = options.reduction;
    Tensor out = reduction == Reduction::None ? losses
               : reduction == Reduction::Sum  ? full(Shape{}, static_cast<float>(total))
                                              : full(Shape{}, static_cast<float>(total / total_weight));

    record(out, op, {logits, targets},
           [logits, targets, weight, log_sum_exp, reduction, total_weight, eps, ignore_index, rows,
            cols](const Tensor&, const Tensor& dout) -> Grads {
               // dL/dℓ_n per row: dout itself, or the scalar dout spread over the rows
               Tensor dloss = reduction == Reduction::None ? dout
                            : reduction == Reduction::Sum  ? full(Shape{rows}, dout.item())
                                                           : full(Shape{rows}, static_cast<float>(dout.item() / total_weight));
               Tensor dlogits = empty(logits.shape());
               cross_entropy_backward(dlogits.data(), logits.data(), log_sum_exp.data(), targets.data(),
                                      weight.defined() ? weight.data() : nullptr, dloss.data(), eps, ignore_index,
                                      rows, cols);
               return {dlogits, Tensor()};  // targets are class indices: no gradient
           });
    return out;
}

}  // namespace ag
