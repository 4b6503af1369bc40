// cross_entropy_kernel.cpp: cross-entropy from logits with log-softmax fused in, forward and
// backward, written once for any xsimd arch and compiled once per arch (ops/meson.build). The
// contracts, the options and the non-finite cases are those of the reference kernels in
// ops/cross_entropy.cpp; only the per-row work over the C classes is vectorised.
//
// Shapes: logits z, dlogits: N rows of C classes; targets t, loss, log_sum_exp, dloss: [N];
// weight w: [C] or null (all ones). W = floats per batch (16 / 8 / 4). ε = label_smoothing.
//   lse_n  = m + log Σ_c e^(z_nc - m),   m = max_c z_nc
//   ℓ_n    = (1 - ε) (-w_t (z_nt - lse_n)) + (ε / C) (-Σ_c w_c (z_nc - lse_n))    0 if ignored
//   dz_nc  = (e^(z_nc - lse_n) Σq - q_c) dloss_n,   q_c = (ε / C) w_c + [c = t] (1 - ε) w_t
// Forward per row: max; exp and sum; the smoothing sum Σ_c w_c (z_c - lse) (only when ε > 0).
// Backward per row: dz for every class with q_c = (ε / C) w_c, then the target's class again
// with its full q_t. Each pass runs over whole batches, then the C mod W leftover classes with
// the same functor on float.
//
// Where results differ from the reference (tolerance in tests/ops/test_cross_entropy.cpp):
// xsimd::exp is within about 1 ulp of std::exp, the sums add W partial sums in another order,
// and -ffp-contract=fast fuses a·b + c into one FMA.
#include "ops/cross_entropy_kernel.hpp"

#include "core/simd.hpp"
#include "ops/simd_row.hpp"

#include <cmath>

namespace ag {

namespace {

template <class Arch>
using Batch = xsimd::batch<float, Arch>;

// Whether target value `t` is the ignore_index (as is_ignored in cross_entropy.cpp).
bool is_ignored(float t, int64_t ignore_index) { return static_cast<double>(t) == static_cast<double>(ignore_index); }

// w[c .. c+W) as a batch, or ones without weights; w_c as a float, or 1
template <class Arch>
Batch<Arch> weights_at(const float* weight, int64_t c) {
    return weight ? Batch<Arch>::load_unaligned(weight + c) : Batch<Arch>(1.0f);
}
float weight_at(const float* weight, int64_t c) { return weight ? weight[c] : 1.0f; }

// e^(z - shift), for a batch or a float
struct ShiftedExp {
    float shift;
    template <class T>
    T operator()(T z) const {
        return xsimd::exp(z - shift);
    }
};

// dz = (p Σq - q) g with p = e^(z - lse), for a batch or a float
struct LogitGrad {
    float lse, q_sum, g;
    template <class T>
    T operator()(T z, T q) const {
        return (xsimd::exp(z - lse) * q_sum - q) * g;
    }
};

template <class Arch>
void forward_row(float* loss, float* log_sum_exp, const float* z, int64_t t, const float* weight, float eps,
                 int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // max (NOTE: no shift to 0 for a fully masked row, unlike softmax: its loss is NaN, as PyTorch)
    const float max = row_max<Arch>(z, cols);
    // exp and sum, then lse = log Σ_c e^z_c
    const ShiftedExp exp_shifted{max};
    B acc(0.0f);
    int64_t c = 0;
    for (; c + W <= cols; c += W) acc += exp_shifted(B::load_unaligned(z + c));
    float sum = xsimd::hadd(acc);
    for (; c < cols; ++c) sum += exp_shifted(z[c]);
    const float lse = max + std::log(sum);
    // the loss: log p_c = z_c - lse; the smoothing sum only when ε > 0 (see the NOTE in cross_entropy.cpp)
    const float nll = -weight_at(weight, t) * (z[t] - lse);
    if (eps > 0.0f) {
        acc = B(0.0f);
        for (c = 0; c + W <= cols; c += W) acc += weights_at<Arch>(weight, c) * (B::load_unaligned(z + c) - lse);
        float smooth = -xsimd::hadd(acc);
        for (; c < cols; ++c) smooth -= weight_at(weight, c) * (z[c] - lse);
        *loss = (1.0f - eps) * nll + eps / static_cast<float>(cols) * smooth;
    } else {
        *loss = nll;
    }
    *log_sum_exp = lse;
}

template <class Arch>
void backward_row(float* dz, const float* z, int64_t t, const float* weight, const LogitGrad& grad,
                  float smooth_scale, float target_q, int64_t cols) {
    using B = Batch<Arch>;
    constexpr int64_t W = B::size;
    // every class as if it were not the target: q_c = (ε / C) w_c
    int64_t c = 0;
    for (; c + W <= cols; c += W)
        grad(B::load_unaligned(z + c), smooth_scale * weights_at<Arch>(weight, c)).store_unaligned(dz + c);
    for (; c < cols; ++c) dz[c] = grad(z[c], smooth_scale * weight_at(weight, c));
    // the target's class: q_t = (ε / C) w_t + (1 - ε) w_t
    dz[t] = grad(z[t], smooth_scale * weight_at(weight, t) + target_q);
}

}  // namespace

template <class Arch>
void CrossEntropyForwardKernel::operator()(Arch, float* loss, float* log_sum_exp, const float* logits,
                                           const float* targets, const float* weight, float label_smoothing,
                                           int64_t ignore_index, int64_t rows, int64_t cols) const {
    for (int64_t n = 0; n < rows; ++n) {
        if (is_ignored(targets[n], ignore_index)) {
            loss[n] = log_sum_exp[n] = 0.0f;
            continue;
        }
        forward_row<Arch>(loss + n, log_sum_exp + n, logits + n * cols, static_cast<int64_t>(targets[n]), weight,
                          label_smoothing, cols);
    }
}

template <class Arch>
void CrossEntropyBackwardKernel::operator()(Arch, float* dlogits, const float* logits, const float* log_sum_exp,
                                            const float* targets, const float* weight, const float* dloss,
                                            float label_smoothing, int64_t ignore_index, int64_t rows,
                                            int64_t cols) const {
    // the smoothing part of q, and Σ_c w_c (in class order, as the reference)
    const float smooth_scale = label_smoothing / static_cast<float>(cols);
    float weight_sum = 0.0f;
    for (int64_t c = 0; c < cols; ++c) weight_sum += weight_at(weight, c);
    for (int64_t n = 0; n < rows; ++n) {
        float* dz = dlogits + n * cols;
        if (is_ignored(targets[n], ignore_index)) {
            for (int64_t c = 0; c < cols; ++c) dz[c] = 0.0f;
            continue;
        }
        const auto t = static_cast<int64_t>(targets[n]);
        const float target_q = (1.0f - label_smoothing) * weight_at(weight, t);
        const LogitGrad grad{log_sum_exp[n], target_q + smooth_scale * weight_sum, dloss[n]};
        backward_row<Arch>(dz, logits + n * cols, t, weight, grad, smooth_scale, target_q, cols);
    }
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void CrossEntropyForwardKernel::operator()(KernelArch, float*, float*, const float*, const float*,
                                                    const float*, float, int64_t, int64_t, int64_t) const;
template void CrossEntropyBackwardKernel::operator()(KernelArch, float*, const float*, const float*, const float*,
                                                     const float*, const float*, float, int64_t, int64_t,
                                                     int64_t) const;

}  // namespace ag
