// gradcheck.hpp: checks an op's analytic gradient against central finite differences.
//
// For y = f(x1, ..., xn) and fixed random weights w of y's shape, the scalar L = sum(w * y) has
//   analytic   dL/dx = what backward gives for y.backward(w)
//   numeric    dL/dx[j] ~ (L(x[j] + eps) - L(x[j] - eps)) / (2 eps)
// Random weights, not a plain sum: sum(softmax(x)) is constant, so its gradient is identically
// zero and would hide any bug in softmax's backward.
//
// Tolerances, for float32: the forward is evaluated in float, so L carries a rounding error of
// about 1e-7 * |L|; divided by 2 eps = 2e-3 that is about 1e-4 on each numeric derivative, while
// the truncation error of central differences is eps^2 * f''' / 6, about 2e-7 * f'''. Hence
// eps = 1e-3 and |analytic - numeric| <= atol + rtol * |numeric| with atol = 1e-3, rtol = 1e-2.
// Keep test inputs away from kinks (relu at 0, max with ties): there the two sides differ.
#pragma once

#include "core/tensor.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ag {

/// Step and tolerances of gradcheck, PyTorch's defaults for float32 made looser.
struct GradcheckOptions {
    double eps = 1e-3;   ///< half-width of the central difference
    double atol = 1e-3;  ///< absolute tolerance
    double rtol = 1e-2;  ///< tolerance relative to the numeric derivative
    uint64_t seed = 0;   ///< seed of the output weights w
};

/// What gradcheck found: ok, or the worst mismatch in words.
struct GradcheckResult {
    /// True when every analytic derivative matched the numeric one.
    bool ok = true;
    std::string message;  ///< the worst mismatch, when not ok: input, element, analytic, numeric
    /// `if (gradcheck(...))` reads as ok.
    explicit operator bool() const { return ok; }
};

/// Checks every input with requires_grad. `f` is called many times and must be deterministic.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace ag
