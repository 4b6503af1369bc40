// adam_kernel.cpp: the Adam/AdamW update on SIMD batches, written once for any xsimd arch and
// compiled once per arch (ops/meson.build, kernel_sources). Formulas in optim/adam.hpp:
//
//   p = p * decay (AdamW)   or   g = g + wd * p (Adam, wd != 0)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g          v_max = max(v_max, v), used for v (amsgrad)
//   p = p - step_size * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// One pass: each element's 4 (amsgrad: 5) floats are loaded once and 3 (4) stored once, so the
// update runs at memory speed: 28 bytes per parameter (36 with amsgrad).
// Phases: whole batches of W floats (16 / 8 / 4), then the n mod W tail through one batch
// (load_partial fills the other lanes with 0, which produce finite values that are not stored).
//
// Where the results differ from adam_update_reference: the same operations in the same order,
// but -ffp-contract=fast fuses beta * m + (1 - beta) * g and the others into FMAs (one rounding
// instead of two), so m and v may differ in the last bit, and p by a few ulp of the step.
#include "optim/adam_kernel.hpp"

#include "core/simd.hpp"
#include "ops/simd_row.hpp"

namespace ag {

namespace {

// One batch (or the tail batch) of the update: reads p, g, m, v (and v_max), returns them updated.
template <class Arch>
struct AdamLanes {
    using B = xsimd::batch<float, Arch>;
    B p, g, m, v, v_max;

    void update(const AdamScalars& s, bool amsgrad) {
        // weight decay: decoupled shrink (AdamW) or L2 gradient (Adam)
        if (s.decoupled) {
            p = p * B(s.decay);
        } else if (s.weight_decay != 0.0f) {
            g = g + B(s.weight_decay) * p;
        }
        // moments
        m = m * B(s.beta1) + B(s.one_minus_beta1) * g;
        v = v * B(s.beta2) + B(s.one_minus_beta2) * g * g;
        B v_hat = v;
        if (amsgrad) {
            v_max = xsimd::select(v_max < v, v, v_max);  // std::max(v_max, v), NaN included
            v_hat = v_max;
        }
        // bias-corrected step
        const B denom = xsimd::sqrt(v_hat) / B(s.bias_correction2_sqrt) + B(s.eps);
        p = p - B(s.step_size) * (m / denom);
    }
};

}  // namespace

template <class Arch>
void AdamKernel::operator()(Arch, float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq_or_null,
                            const float* grad, int64_t n, AdamScalars s) const {
    using B = xsimd::batch<float, Arch>;
    constexpr int64_t W = B::size;
    float* v_max = max_exp_avg_sq_or_null;
    const bool amsgrad = v_max != nullptr;
    // whole batches
    int64_t i = 0;
    for (; i + W <= n; i += W) {
        AdamLanes<Arch> x{B::load_unaligned(param + i), B::load_unaligned(grad + i), B::load_unaligned(exp_avg + i),
                          B::load_unaligned(exp_avg_sq + i), amsgrad ? B::load_unaligned(v_max + i) : B(0.0f)};
        x.update(s, amsgrad);
        x.p.store_unaligned(param + i);
        x.m.store_unaligned(exp_avg + i);
        x.v.store_unaligned(exp_avg_sq + i);
        if (amsgrad) x.v_max.store_unaligned(v_max + i);
    }
    // the tail, through one batch
    if (i < n) {
        const int64_t r = n - i;
        AdamLanes<Arch> x{load_partial<Arch>(param + i, r), load_partial<Arch>(grad + i, r),
                          load_partial<Arch>(exp_avg + i, r), load_partial<Arch>(exp_avg_sq + i, r),
                          amsgrad ? load_partial<Arch>(v_max + i, r) : B(0.0f)};
        x.update(s, amsgrad);
        store_partial(param + i, x.p, r);
        store_partial(exp_avg + i, x.m, r);
        store_partial(exp_avg_sq + i, x.v, r);
        if (amsgrad) store_partial(v_max + i, x.v_max, r);
    }
}

// This copy of the file serves the arch its compiler flags target (see core/simd.hpp).
template void AdamKernel::operator()(KernelArch, float*, float*, float*, float*, const float*, int64_t,
                                     AdamScalars) const;

}  // namespace ag
