// clip.cpp: clip_grad_norm (formula in clip.hpp).
#include "optim/clip.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"

#include <cmath>

namespace ag {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
    check(std::isfinite(max_norm) && max_norm > 0, "clip_grad_norm", "max_norm must be positive and finite: got {}",
          max_norm);
    NoGradGuard no_grad;

    // global norm: one sum of squares over every gradient
    double sum_sq = 0.0;
    for (const Tensor& p : params) {
        Tensor g = p.grad();
        if (!g.defined()) continue;
        const float* d = g.data();
        for (int64_t i = 0; i < g.numel(); ++i) sum_sq += static_cast<double>(d[i]) * d[i];
    }
    double total = std::sqrt(sum_sq);

    // scale, only when the norm is too large
    double coef = max_norm / (total + 1e-6);
    // NOTE: !(coef >= 1) is also true for NaN: a NaN norm poisons the gradients, as in PyTorch
    if (!(coef >= 1.0)) {
        float c = static_cast<float>(coef);
        for (const Tensor& p : params) {
            Tensor g = p.grad();
            if (!g.defined()) continue;
            float* d = g.data();
            for (int64_t i = 0; i < g.numel(); ++i) d[i] *= c;
        }
    }
    return total;
}

}  // namespace ag
