// gradcheck.cpp: finite-difference gradient checking (see gradcheck.hpp).
#include "core/gradcheck.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/random.hpp"

#include <cmath>

namespace ag {

namespace {
// L = sum(w * y) in double, so the sum adds no rounding of its own.
double weighted_sum(const Tensor& y, const Tensor& w) {
    double total = 0.0;
    for (int64_t i = 0; i < y.numel(); ++i) total += static_cast<double>(w.data()[i]) * y.data()[i];
    return total;
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
    // analytic: backward of y with weights w as its gradient
    for (const Tensor& x : inputs)
        if (x.requires_grad()) x.set_grad(Tensor());
    Tensor y = f(inputs);
    check(y.requires_grad(), "gradcheck", "the output does not require grad: no input with requires_grad reaches it");
    Generator gen(options.seed);
    Tensor w = randn(y.shape(), gen);
    y.backward(w);

    GradcheckResult result;
    double worst = 0.0;
    NoGradGuard no_grad;
    for (size_t k = 0; k < inputs.size(); ++k) {
        const Tensor& x = inputs[k];
        if (!x.requires_grad()) continue;
        Tensor analytic = x.grad();  // undefined if backward gave this input nothing: compare with 0
        float* values = x.data();
        for (int64_t j = 0; j < x.numel(); ++j) {
            const float original = values[j];
            // use the perturbation float can represent, not the one we asked for
            const float plus = static_cast<float>(original + options.eps);
            const float minus = static_cast<float>(original - options.eps);
            values[j] = plus;
            double l_plus = weighted_sum(f(inputs), w);
            values[j] = minus;
            double l_minus = weighted_sum(f(inputs), w);
            values[j] = original;

            double numeric = (l_plus - l_minus) / (static_cast<double>(plus) - minus);
            double exact = analytic.defined() ? analytic.data()[j] : 0.0;
            double error = std::fabs(exact - numeric);
            double excess = error - (options.atol + options.rtol * std::fabs(numeric));
            if (!(excess <= 0.0) && (result.ok || excess > worst || std::isnan(excess))) {
                worst = std::isnan(excess) ? INFINITY : excess;
                result.ok = false;
                result.message = fmt::format("input {} (shape {}) element {}: analytic {:.6g}, numeric {:.6g}{}", k,
                                             x.shape(), j, exact, numeric, analytic.defined() ? "" : " (no gradient)");
            }
        }
    }
    return result;
}

}  // namespace ag
